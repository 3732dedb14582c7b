"""Builds :class:`Settings` from three layers, later ones winning.

1. ``config.defaults.yaml`` shipped in this package;
2. the deployer's ``config.yaml`` (``--config PATH``, ``IMAJIN_CONFIG``, or
   ``./config.yaml`` when present);
3. environment variables ``IMAJIN_<SECTION>__<KEY>`` (``IMAJIN_DATA_DIR`` for
   the top-level key).

We merge plain dicts ourselves rather than use pydantic-settings' sources so
that an invalid value is reported with the layer that set it (the file, or
the exact variable name) — the fastest way for an operator to fix it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from imajin.config.settings import Settings
from imajin.errors import ConfigError

ENV_PREFIX = "IMAJIN_"
# Variables with our prefix that are not settings: the config file path and
# the test suite's service URLs.
_NOT_SETTINGS = ("CONFIG", "TEST_")

Origins = dict[tuple[str, ...], str]


def defaults_text() -> str:
    """The shipped defaults file, verbatim."""
    return files("imajin.config").joinpath("config.defaults.yaml").read_text(encoding="utf-8")


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Build the effective settings; raise :class:`ConfigError` naming any bad key.

    Args:
        config_file: The deployer's file; when None, ``IMAJIN_CONFIG`` or
            ``<cwd>/config.yaml`` if it exists.
        environ: Environment to read (defaults to ``os.environ``).
        cwd: Directory that relative paths are resolved against.
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    merged: dict[str, Any] = {}
    origins: Origins = {}

    _merge(merged, _parse_yaml(defaults_text(), "config.defaults.yaml"), origins, "defaults")
    user_file = _user_file(config_file, environ, cwd)
    if user_file is not None:
        text = user_file.read_text(encoding="utf-8")
        _merge(merged, _parse_yaml(text, str(user_file)), origins, str(user_file))
    _merge_env(merged, environ, origins)

    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origins), field=_first_key(exc)) from None
    data_dir = settings.data_dir if settings.data_dir.is_absolute() else cwd / settings.data_dir
    return settings.model_copy(update={"data_dir": data_dir.resolve()})


def _user_file(config_file: Path | None, environ: Mapping[str, str], cwd: Path) -> Path | None:
    if config_file is None and environ.get("IMAJIN_CONFIG"):
        config_file = Path(environ["IMAJIN_CONFIG"])
    if config_file is not None:
        path = config_file if config_file.is_absolute() else cwd / config_file
        if not path.is_file():
            raise ConfigError(f"Config file {path} does not exist.", field="config")
        return path
    default = cwd / "config.yaml"
    return default if default.is_file() else None


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must hold a mapping of sections, not {type(data).__name__}.")
    return data


def _merge(
    into: dict[str, Any],
    layer: Mapping[str, Any],
    origins: Origins,
    origin: str,
    prefix: tuple[str, ...] = (),
) -> None:
    """Deep-merge ``layer`` into ``into``; lists and scalars replace, mappings merge."""
    for key, value in layer.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value, origins, origin, path)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value
        origins[path] = origin


def _merge_env(into: dict[str, Any], environ: Mapping[str, str], origins: Origins) -> None:
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :]
        if rest.startswith(_NOT_SETTINGS):
            continue
        path = tuple(part.lower() for part in rest.split("__"))
        if any(part == "" for part in path):
            raise ConfigError(f"Environment variable {name} has an empty key segment.", field=name)
        nested: Any = _decode_env_value(raw)
        for part in reversed(path):
            nested = {part: nested}
        _merge(into, nested, origins, f"environment variable {name}")


def _decode_env_value(raw: str) -> Any:
    """Lists and mappings come as JSON; everything else stays a string for pydantic."""
    stripped = raw.strip()
    if stripped.startswith(("[", "{")):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return raw
    if stripped in ("", "null"):
        return None
    return raw


def _describe(exc: ValidationError, origins: Origins) -> str:
    lines = ["Invalid configuration:"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        origin = _origin_of(tuple(str(part) for part in error["loc"]), origins)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check its spelling and section)"
        lines.append(f"  {key}: {message} (set in {origin})")
    return "\n".join(lines)


def _origin_of(path: tuple[str, ...], origins: Origins) -> str:
    # List items and nested models report deeper locations than we recorded.
    while path:
        if path in origins:
            return origins[path]
        path = path[:-1]
    return "defaults"


def _first_key(exc: ValidationError) -> str:
    return ".".join(str(part) for part in exc.errors()[0]["loc"])
