"""Alembic migrations, run from code: ``imajin db upgrade`` and ``imajin serve`` use this."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from imajin.store.database import Database


def alembic_config(database: Database) -> Config:
    """An Alembic config whose scripts live in this package (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(files("imajin.store").joinpath("migrations")))
    config.attributes["database"] = database
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(database), revision)


def current_revision(database: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(database: Database) -> str | None:
    """The newest revision this version of imajin ships."""
    return ScriptDirectory.from_config(alembic_config(database)).get_current_head()


def create_revision(database: Database, *, message: str, autogenerate: bool = True) -> None:
    """Write a new migration script comparing the tables to the database (for developers)."""
    command.revision(alembic_config(database), message=message, autogenerate=autogenerate)
