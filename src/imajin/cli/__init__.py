"""The `imajin` command line. Each sub-command lives in its own module."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from imajin import __version__
from imajin.cli import (
    assistant_commands,
    config_commands,
    db_commands,
    dev_commands,
    engine_commands,
    gateway_commands,
    jobs_commands,
    keys_commands,
    profile_commands,
    studio_commands,
    train_commands,
    variation_commands,
)
from imajin.cli.context import CliState
from imajin.cli.serve import serve
from imajin.cli.worker import worker
from imajin.errors import ConfigError, ImajinError

app = typer.Typer(
    name="imajin",
    help="imajin: self-hosted AI image generation. Start with `imajin serve`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (default: ./config.yaml when present).",
            envvar="IMAJIN_CONFIG",
        ),
    ] = None,
) -> None:
    ctx.obj = CliState(config_file=config)


@app.command()
def version() -> None:
    """Print imajin's version."""
    typer.echo(__version__)


app.command()(serve)
app.command()(worker)
app.add_typer(config_commands.app, name="config")
app.add_typer(db_commands.app, name="db")
app.add_typer(keys_commands.app, name="keys")
app.add_typer(jobs_commands.app, name="jobs")
app.add_typer(dev_commands.app, name="dev")
app.add_typer(variation_commands.app, name="variation")
engine_commands.register(app)
studio_commands.register(app)
assistant_commands.register(app)
app.command("train-lora")(train_commands.train_lora)
app.command("chat")(gateway_commands.chat)
app.command("profile")(profile_commands.profile)


def main() -> None:
    """Entry point: run the CLI, turning imajin's errors into a message and an exit code."""
    try:
        # Without standalone mode, click *returns* a typer.Exit's code instead of raising it.
        code = app(standalone_mode=False)
    except ImajinError as exc:
        typer.secho(f"error: {exc.message}", fg="red", err=True)
        sys.exit(2 if isinstance(exc, ConfigError) else 1)
    except typer.Abort:
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors (Typer's own click, not the package)
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        sys.exit(getattr(exc, "exit_code", 2))
    if isinstance(code, int) and code:
        sys.exit(code)
