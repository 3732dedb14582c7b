"""`imajin keys ...`: manage API keys stored (as hashes) in the database."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from imajin.cli.context import platform_from, settings_from
from imajin.config.settings import Scope
from imajin.storage.url_signing import write_secret
from imajin.store.migrate import upgrade

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    scope: Annotated[
        list[Scope],
        typer.Option("--scope", "-s", help="Repeat for several: read, generate, admin."),
    ],
    name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "",
) -> None:
    """Create a key and print it once; only its hash is stored."""
    platform = platform_from(ctx)
    try:
        upgrade(platform.database)
        record, key = platform.keys.create(scopes=scope, name=name)
    finally:
        platform.close()
    typer.echo(f"Created key {record.id} with scopes {', '.join(record.scopes)}.", err=True)
    typer.echo("Store it now; it cannot be shown again:", err=True)
    typer.echo(key)


@app.command("list")
def list_keys(
    ctx: typer.Context,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked keys.")] = False,
) -> None:
    """List keys (never the keys themselves)."""
    platform = platform_from(ctx)
    try:
        upgrade(platform.database)
        keys = platform.keys.list(include_revoked=revoked)
    finally:
        platform.close()
    table = Table("id", "name", "scopes", "source", "created", "revoked")
    for key in keys:
        table.add_row(
            key.id,
            key.name,
            ", ".join(key.scopes),
            key.source,
            f"{key.created_at:%Y-%m-%d %H:%M}" if key.created_at else "-",
            f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "-",
        )
    Console().print(table)


@app.command("revoke")
def revoke(
    ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="The key's id.")]
) -> None:
    """Revoke a key; requests using it fail from now on."""
    platform = platform_from(ctx)
    try:
        upgrade(platform.database)
        record = platform.keys.revoke(key_id)
    finally:
        platform.close()
    typer.echo(f"Revoked key {record.id}.")


@app.command("rotate-url-secret")
def rotate_url_secret(ctx: typer.Context) -> None:
    """Replace the secret image URLs are signed with: every signed URL given out so far
    stops working (servers sharing this data dir pick the new one up on their next request)."""
    path = settings_from(ctx).layout.url_secret
    write_secret(path, replace=True)
    typer.echo(f"Rotated the URL-signing secret ({path.name} in the data directory).")
