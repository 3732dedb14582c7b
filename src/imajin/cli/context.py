"""What every CLI command shares: the chosen config file and settings loading."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from imajin.config.loader import load_settings
from imajin.config.settings import Settings
from imajin.wiring import Platform, build_platform

if TYPE_CHECKING:
    from imajin.engine.engine import Engine


@dataclass
class CliState:
    config_file: Path | None = None


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def settings_from(ctx: typer.Context) -> Settings:
    """Load settings for a command; a ConfigError reaches ``main`` and exits cleanly."""
    return load_settings(state(ctx).config_file)


def platform_from(ctx: typer.Context) -> Platform:
    return build_platform(settings_from(ctx))


def engine_factory() -> Engine:
    """The engine for the command being run, with the safety layer wired in."""
    import click  # noqa: PLC0415

    from imajin.engine.factory import build_engine  # noqa: PLC0415  # imports torch
    from imajin.wiring import check_prompt, negative_prompt  # noqa: PLC0415

    root = click.get_current_context().find_root()
    config_file = root.obj.config_file if isinstance(root.obj, CliState) else None
    settings = load_settings(config_file)
    return build_engine(
        settings.engine,
        data_dir=settings.data_dir,
        negative_prompt_builder=negative_prompt,
        prompt_guard=check_prompt,
    )
