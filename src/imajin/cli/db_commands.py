"""`imajin db ...`: schema migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from imajin.cli.context import settings_from
from imajin.store.database import Database
from imajin.store.migrate import create_revision, current_revision, head_revision, upgrade
from imajin.wiring import build_database

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


def _database(ctx: typer.Context) -> Database:
    return build_database(settings_from(ctx))


@app.command("upgrade")
def upgrade_command(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations up to REVISION (`imajin serve` does this on start)."""
    database = _database(ctx)
    try:
        upgrade(database, revision)
        typer.echo(f"database at revision {current_revision(database)}")
    finally:
        database.dispose()


@app.command("current")
def current(ctx: typer.Context) -> None:
    """Show the database's revision and the newest one this version ships."""
    database = _database(ctx)
    try:
        typer.echo(f"current: {current_revision(database) or '(empty)'}")
        typer.echo(f"head:    {head_revision(database)}")
    finally:
        database.dispose()


@app.command("revision")
def revision(
    ctx: typer.Context,
    message: Annotated[str, typer.Option("--message", "-m", help="What the migration does.")],
) -> None:
    """(Developers) write a migration for table changes, compared to an upgraded database."""
    database = _database(ctx)
    try:
        create_revision(database, message=message)
    finally:
        database.dispose()
