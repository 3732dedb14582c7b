"""`imajin config ...`: inspect the effective configuration."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
import yaml
from sqlalchemy.engine import make_url

from imajin.cli.context import settings_from
from imajin.config.settings import Settings

app = typer.Typer(help="Inspect configuration.", no_args_is_help=True)

MASK = "********"


def masked(settings: Settings) -> dict[str, Any]:
    """The settings as plain data with secrets (passwords in URLs, key hashes) masked."""
    data = settings.model_dump(mode="json")
    if settings.database.url:
        data["database"]["url"] = make_url(settings.database.url).render_as_string(
            hide_password=True
        )
    for key in data["auth"]["keys"]:
        key["hash"] = MASK
    return data


@app.command("show")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of YAML.")] = False,
) -> None:
    """Print the configuration in force (defaults < config.yaml < IMAJIN_* env)."""
    data = masked(settings_from(ctx))
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False).rstrip())
