"""LoRA files: find them, tell what they were made for, apply them, take them off again.

Before any model loads, a LoRA's safetensors header (keys, shapes, metadata;
no tensors) shows which architecture it was made for, so an SDXL LoRA sent to
an SD 1.5 model fails at once with a message naming both. Once the model is
loaded, each diffusers/PEFT-format layer is checked against the model's own
layer widths before anything is injected. Adapters are always unloaded after
the job, leaving the pipeline exactly as it was.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from imajin.engine.errors import IncompatibleLora
from imajin.engine.families import family_label
from imajin.engine.lora_header import (
    DOWN_SUFFIXES,
    UP_SUFFIXES,
    LoraHeader,
    detect_family,
    holds_lora_weights,
)
from imajin.engine.request import LoraRequest
from imajin.engine.spec import ModelSpec
from imajin.errors import InvalidInput, NotFound

logger = logging.getLogger(__name__)

_COMPONENTS = ("unet", "transformer", "text_encoder", "text_encoder_2", "text_encoder_3")
_DOWN = DOWN_SUFFIXES
_UP = UP_SUFFIXES


@dataclass(frozen=True)
class LoraFile:
    """A LoRA resolved for one job.

    Attributes:
        name: File stem, used in metadata and messages.
        path: The ``.safetensors`` file.
        weight: Adapter weight for this job.
        header: Its header (shapes and metadata).
        family: Architecture it was made for, if the header tells (``sdxl``).
        field: The request field it came from (``loras[0]``), for error messages.
    """

    name: str
    path: Path
    weight: float
    header: LoraHeader
    family: str | None
    field: str


def read_header(path: Path, *, field: str) -> LoraHeader:
    """Keys, shapes and metadata of a safetensors file.

    Raises:
        InvalidInput: The file is not a readable safetensors file.
    """
    try:
        with safe_open(str(path), framework="pt") as handle:
            shapes = {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}  # noqa: SIM118
            metadata = dict(handle.metadata() or {})
    except Exception as exc:  # safetensors raises its own error types
        raise InvalidInput(
            f"{field}: {path.name} is not a readable .safetensors LoRA file ({exc})", field=field
        ) from exc
    header = LoraHeader(shapes=shapes, metadata=metadata)
    if not holds_lora_weights(header):
        raise InvalidInput(f"{field}: {path.name} holds no LoRA weights", field=field)
    return header


def resolve_lora(request: LoraRequest, *, index: int, search_dirs: Sequence[Path]) -> LoraFile:
    """Find the file a LoRA request names and read its header.

    Raises:
        NotFound: No such file / id; the message lists where imajin looked.
        InvalidInput: Not a .safetensors LoRA.
    """
    field = f"loras[{index}]"
    if request.path is not None:
        path = _find_path(Path(request.path).expanduser(), search_dirs, field=f"{field}.path")
    else:
        path = _find_id(str(request.id), search_dirs, field=f"{field}.id")
    header = read_header(path, field=field)
    if abs(request.weight) > 1.0:
        logger.warning(
            "LoRA %s has weight %s; above 1 often overcooks images", path.name, request.weight
        )
    return LoraFile(
        name=path.stem,
        path=path,
        weight=request.weight,
        header=header,
        family=detect_family(header),
        field=field,
    )


def _find_path(path: Path, search_dirs: Sequence[Path], *, field: str) -> Path:
    if path.suffix != ".safetensors":
        raise InvalidInput(
            f"{field}: LoRAs are loaded from .safetensors files only (pickled .pt/.ckpt files can "
            f"run code); got {path.name!r}",
            field=field,
        )
    candidates = (
        [path] if path.is_absolute() else [Path.cwd() / path, *(d / path for d in search_dirs)]
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise NotFound(f"{field}: LoRA file {path} does not exist", field=field)


def _find_id(lora_id: str, search_dirs: Sequence[Path], *, field: str) -> Path:
    for folder in search_dirs:
        candidate = folder / f"{lora_id}.safetensors"
        if candidate.is_file():
            return candidate.resolve()
    available = sorted({p.stem for d in search_dirs if d.is_dir() for p in d.glob("*.safetensors")})
    listed = ", ".join(available[:20]) or "none"
    folders = ", ".join(str(d) for d in search_dirs) or "no LoRA folders configured"
    raise NotFound(
        f"{field}: no LoRA named {lora_id!r} in {folders}; available: {listed}", field=field
    )


def check_family(lora: LoraFile, spec: ModelSpec) -> None:
    """Refuse a LoRA whose header says it was made for another architecture than ``spec``'s."""
    if lora.family is not None and lora.family != spec.family:
        raise _incompatible(
            lora,
            spec,
            f"LoRA {lora.name!r} was made for {family_label(lora.family)}, but model "
            f"{spec.name!r} is {family_label(spec.family)}. Use a LoRA trained for "
            f"{family_label(spec.family)}, or choose a model made for {family_label(lora.family)}.",
        )


def _incompatible(lora: LoraFile, spec: ModelSpec, message: str) -> IncompatibleLora:
    return IncompatibleLora(
        f"{lora.field}: {message}",
        field=lora.field,
        lora=lora.name,
        lora_family=lora.family,
        model_family=spec.family,
    )


def _split_key(key: str) -> tuple[str, str, str] | None:
    """``unet.a.b.lora_A.weight`` → (``unet``, ``a.b``, ``down``); None if not diffusers format."""
    for suffixes, role in ((_DOWN, "down"), (_UP, "up")):
        for suffix in suffixes:
            if key.endswith(suffix):
                component, _, module = key[: -len(suffix)].partition(".")
                if component not in _COMPONENTS:
                    return None
                # The older attention-processor layout names LoRA layers after the projection.
                module = re.sub(r"\.processor\.(to_[qkv])_lora$", r".\1", module)
                module = re.sub(r"\.processor\.to_out_lora$", ".to_out.0", module)
                return component, module, role
    return None


def _layer_widths(module: Any) -> tuple[int, int] | None:
    if isinstance(module, torch.nn.Conv2d) or hasattr(module, "in_channels"):
        return int(module.in_channels), int(module.out_channels)
    if hasattr(module, "in_features"):
        return int(module.in_features), int(module.out_features)
    return None


def _mismatch(lora: LoraFile, spec: ModelSpec, detail: str) -> IncompatibleLora:
    made_for = (
        f"It looks made for {family_label(lora.family)}."
        if lora.family
        else "It was made for a different base architecture."
    )
    return _incompatible(
        lora,
        spec,
        f"LoRA {lora.name!r} does not fit model {spec.name!r} ({family_label(spec.family)}): "
        f"{detail}. {made_for} Use a LoRA trained for {family_label(spec.family)}.",
    )


def _check_rank(lora: LoraFile, key: str, down: tuple[int, ...], up: tuple[int, ...]) -> None:
    if len(down) < 2 or len(up) < 2 or down[0] != up[1]:
        raise InvalidInput(
            f"{lora.field}: LoRA {lora.name!r} is malformed: layer `{key}` has down/up "
            f"matrices of shapes {list(down)} and {list(up)}, whose ranks differ; the file is "
            "damaged or not a LoRA",
            field=lora.field,
        )


def check_fits_pipeline(lora: LoraFile, pipe: Any, spec: ModelSpec) -> None:
    """Compare each diffusers/PEFT-format LoRA layer with the model's layer of that name.

    Other layouts (kohya, ...) are left to diffusers' converter; :func:`applied_loras`
    still turns a failure there into a clear error.

    Raises:
        IncompatibleLora: A layer is missing or has other widths.
        InvalidInput: The file's down and up matrices disagree on the rank.
    """
    pairs: dict[tuple[str, str], dict[str, tuple[int, ...]]] = {}
    for key, shape in lora.header.shapes.items():
        split = _split_key(key)
        if split is not None:
            pairs.setdefault((split[0], split[1]), {})[split[2]] = shape
    missing: list[str] = []
    for (component, module_path), shapes in pairs.items():
        name = f"{component}.{module_path}"
        down, up = shapes.get("down"), shapes.get("up")
        if down is None or up is None:
            continue
        _check_rank(lora, name, down, up)
        owner = getattr(pipe, component, None)
        try:
            module = owner.get_submodule(module_path) if owner is not None else None
        except AttributeError:
            module = None
        widths = _layer_widths(module) if module is not None else None
        if widths is None:
            missing.append(name)
            continue
        if (down[1], up[0]) != widths:
            raise _mismatch(
                lora,
                spec,
                f"its layer `{name}` maps width {down[1]} to {up[0]}, the model's maps "
                f"{widths[0]} to {widths[1]}",
            )
    if pairs and len(missing) == len(pairs):
        raise _mismatch(lora, spec, f"none of its layers exist in the model (e.g. `{missing[0]}`)")
    if missing:
        logger.warning(
            "LoRA %s: %d of %d layers are not in model %s and are ignored",
            lora.name,
            len(missing),
            len(pairs),
            spec.id,
        )


@contextmanager
def applied_loras(pipe: Any, loras: Sequence[LoraFile], *, spec: ModelSpec) -> Iterator[None]:
    """Load ``loras`` as named PEFT adapters with their weights; unload them on exit.

    The ``finally`` always runs ``unload_lora_weights``, which removes the PEFT
    layers and restores the original modules, so the next job sees the base model.
    """
    if not loras:
        yield
        return
    for lora in loras:
        check_fits_pipeline(lora, pipe, spec)
    names: list[str] = []
    try:
        for index, lora in enumerate(loras):
            name = f"imajin_{index}"
            try:
                pipe.load_lora_weights(str(lora.path), adapter_name=name)
            except (ValueError, RuntimeError, KeyError, TypeError) as exc:
                logger.info("loading LoRA %s failed: %s", lora.path, exc)
                raise _mismatch(
                    lora, spec, "diffusers could not map its layers onto the model"
                ) from exc
            names.append(name)
        pipe.set_adapters(names, adapter_weights=[lora.weight for lora in loras])
        yield
    finally:
        pipe.unload_lora_weights()
