"""Migrations build exactly the schema the tables declare, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from imajin.store.database import Database
from imajin.store.migrate import current_revision, head_revision, upgrade
from imajin.store.tables import Base


def test_upgrade_from_empty_reaches_head_and_matches_the_tables(empty_database: Database) -> None:
    assert current_revision(empty_database) is None
    upgrade(empty_database)
    assert current_revision(empty_database) == head_revision(empty_database)
    with empty_database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    # A table or column added to tables.py without a migration shows up here.
    assert differences == []


def test_upgrade_is_idempotent(database: Database) -> None:
    upgrade(database)
    upgrade(database)
    tables = set(inspect(database.engine).get_table_names())
    assert {"api_keys", "alembic_version"} <= tables
