"""Themes for ``GET /api/themes/random``: a data file of looks, one picked at random."""

from __future__ import annotations

import secrets
from importlib.resources import files
from pathlib import Path

import yaml

from imajin.errors import ConfigError

SHIPPED_THEMES = "themes.yaml"


def load_themes(path: Path | None = None) -> list[str]:
    """The themes of ``path`` (a YAML list, or ``themes:`` holding one), else the shipped ones.

    Raises:
        ConfigError: The file is missing, unreadable, or holds no themes.
    """
    origin = str(path) if path is not None else f"imajin.studio/{SHIPPED_THEMES}"
    try:
        if path is None:
            text = files("imajin.studio").joinpath(SHIPPED_THEMES).read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"cannot read themes from {origin}: {exc}", field="studio.themes_file"
        ) from None
    if isinstance(data, dict):
        data = data.get("themes")
    themes = (
        [str(t).strip() for t in data or [] if str(t).strip()] if isinstance(data, list) else []
    )
    if not themes:
        raise ConfigError(
            f"{origin} holds no themes; write a YAML list of strings", field="studio.themes_file"
        )
    return themes


def random_theme(themes: list[str]) -> str:
    return secrets.choice(themes)
