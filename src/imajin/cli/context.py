"""What every CLI command shares, carried on Typer's context object (``ctx.obj``).

The root callback stores a :class:`CliState`; each command takes ``ctx:
typer.Context`` and asks for what it needs here, so nothing relies on a
global "current context" (Typer vendors its own click, which a global lookup
through the ``click`` package cannot see).
"""

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
    """The root options: which configuration file the command reads."""

    config_file: Path | None = None


def state(ctx: typer.Context) -> CliState:
    """The command's state (sub-command contexts inherit ``obj`` from the root)."""
    if not isinstance(ctx.obj, CliState):
        ctx.obj = CliState()
    return ctx.obj


def settings_from(ctx: typer.Context) -> Settings:
    """Load settings for a command; a ConfigError reaches ``main`` and exits cleanly."""
    return load_settings(state(ctx).config_file)


def platform_from(ctx: typer.Context) -> Platform:
    return build_platform(settings_from(ctx))


def engine_from(ctx: typer.Context) -> Engine:
    """The engine for the command being run, with the safety layer wired in."""
    from imajin.wiring import build_engine  # noqa: PLC0415

    return build_engine(settings_from(ctx))
