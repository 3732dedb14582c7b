"""The model registry: the shipped manifest, the operator's overrides, and lookups.

``resolve()`` turns what a request says (``"anime"``, a model id, or a local
path) into a :class:`ModelSpec` without loading anything, so a bad request
fails before any weights are touched. Over HTTP a request may name only a style
or an id (SPEC §2.1): callers there pass ``allow_paths=False``, and then any
other value, an existing folder or not, gets the same "unknown model" error.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from imajin.config.layout import DataLayout
from imajin.engine.confined import shown
from imajin.engine.local_models import describe_local_model
from imajin.engine.settings import EngineSettings, StyleDefaults
from imajin.engine.sources import is_explicit_path, looks_like_path, parse_source, path_exists
from imajin.engine.spec import STYLES, ModelSpec, Style
from imajin.errors import ConfigError, NotFound

MANIFEST_FILE = "manifest.yaml"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def _read_manifest(text: str, *, origin: str) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin} is not valid YAML: {exc}") from exc
    entries = data.get("models", []) if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{origin} must hold `models:`, a list of entries with an `id:` each")
    for entry in entries:
        if not isinstance(entry.get("id"), str) or not _SLUG.match(entry["id"]):
            raise ConfigError(
                f"{origin}: every model needs an `id:` slug (lowercase letters, digits, . _ -); "
                f"got {entry.get('id')!r}",
                field="models.id",
            )
    return entries


def _absolute_local_source(entry: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    source = entry.get("source")
    if isinstance(source, str) and is_explicit_path(source):
        path = Path(source).expanduser()
        entry = {
            **entry,
            "source": str(path if path.is_absolute() else (base_dir / path).resolve()),
        }
    return entry


def _build_spec(entry: Mapping[str, Any], *, origin: str) -> ModelSpec:
    try:
        spec = ModelSpec.model_validate(dict(entry))
        parse_source(spec.source)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise ConfigError(
            f"{origin}: model {entry.get('id')!r}, field `{where}`: {error['msg']}",
            field=f"models.{entry.get('id')}.{where}",
        ) from exc
    except ValueError as exc:
        raise ConfigError(f"{origin}: model {entry.get('id')!r}: {exc}") from exc
    return spec


def load_manifests(*, operator_manifest: Path | None = None) -> list[ModelSpec]:
    """The shipped manifest with the operator's entries merged in by id.

    An operator entry for a shipped id overrides only the fields it gives; an
    entry with a new id must give every required field.
    """
    shipped_text = importlib.resources.files("imajin.engine").joinpath(MANIFEST_FILE).read_text()
    merged: dict[str, dict[str, Any]] = {
        entry["id"]: entry for entry in _read_manifest(shipped_text, origin="shipped manifest")
    }
    origins = dict.fromkeys(merged, "shipped manifest")
    if operator_manifest is not None and operator_manifest.is_file():
        origin = str(operator_manifest)
        base_dir = operator_manifest.parent
        for raw in _read_manifest(operator_manifest.read_text(encoding="utf-8"), origin=origin):
            entry = _absolute_local_source(raw, base_dir)
            merged[entry["id"]] = {**merged.get(entry["id"], {}), **entry}
            origins[entry["id"]] = origin
    return [_build_spec(entry, origin=origins[model_id]) for model_id, entry in merged.items()]


class ModelRegistry:
    """Known models by id, style defaults, and resolution of request ``model`` values."""

    def __init__(self, specs: Iterable[ModelSpec], *, defaults: StyleDefaults) -> None:
        self._specs: dict[str, ModelSpec] = {}
        for spec in specs:
            self._specs[spec.id] = spec
        for style in STYLES:
            model_id = getattr(defaults, style)
            if model_id not in self._specs:
                raise ConfigError(
                    f"engine.defaults.{style} names {model_id!r}, which is not in the model "
                    f"manifest; known ids: {', '.join(self._specs)}",
                    field=f"engine.defaults.{style}",
                )
        self._defaults = defaults

    @classmethod
    def from_manifests(
        cls, *, defaults: StyleDefaults, operator_manifest: Path | None = None
    ) -> ModelRegistry:
        """Registry of the shipped manifest plus ``operator_manifest`` (if it exists)."""
        return cls(load_manifests(operator_manifest=operator_manifest), defaults=defaults)

    def ids(self) -> list[str]:
        """Every known model id, in manifest order."""
        return list(self._specs)

    def specs(self) -> list[ModelSpec]:
        """Every known model, in manifest order."""
        return list(self._specs.values())

    def default_for(self, style: Style) -> ModelSpec:
        """The configured default model of ``style``."""
        return self._specs[getattr(self._defaults, style)]

    def get(self, model_id: str, *, allow_paths: bool = True) -> ModelSpec:
        """The model with this exact id.

        Args:
            model_id: The id.
            allow_paths: Whether the message may suggest a local path (not over HTTP).

        Raises:
            NotFound: No such id; the message lists the known ones.
        """
        try:
            return self._specs[model_id]
        except KeyError:
            also = "a style (photorealistic, anime)"
            if allow_paths:
                also += " or a local model folder or .safetensors file"
            raise NotFound(
                f"unknown model {shown(model_id)}; known ids: {', '.join(self._specs)}. A "
                f"request may also name {also}",
                field="model",
            ) from None

    def resolve(self, model: str, *, allow_paths: bool) -> ModelSpec:
        """The model a request's ``model`` value means: a style, an id, or a local path.

        Args:
            model: What the request says.
            allow_paths: Whether a local folder or ``.safetensors`` file may be named:
                True for the CLI and manifests, False for anything that came over HTTP.
                When False, the filesystem is never looked at, so the answer is the
                same whether a path exists or not.

        Raises:
            NotFound: Neither a style, a known id, nor (with ``allow_paths``) an
                existing local model.
            InvalidInput: A local path that is not a model folder or checkpoint.
        """
        if model in STYLES:
            return self.default_for(model)
        if model in self._specs:
            return self._specs[model]
        if allow_paths and (looks_like_path(model) or path_exists(Path(model))):
            return describe_local_model(Path(model))
        return self.get(model, allow_paths=allow_paths)


def build_registry(settings: EngineSettings, *, data_dir: Path) -> ModelRegistry:
    """The shipped manifest plus ``<data_dir>/models/manifest.yaml`` (cheap: no torch)."""
    return ModelRegistry.from_manifests(
        defaults=settings.defaults, operator_manifest=DataLayout(data_dir).manifest
    )
