"""What every CLI command shares: the chosen config file and settings loading."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from imajin.config.loader import load_settings
from imajin.config.settings import Settings
from imajin.wiring import Platform, build_platform


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
