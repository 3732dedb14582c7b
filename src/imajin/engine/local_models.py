"""Describe a model found on disk (a diffusers folder or a .safetensors checkpoint).

The family comes from, in order: the folder's ``imajin.json`` card, the
``_class_name`` in ``model_index.json``, or (for a single file) tell-tale
state-dict keys read from the safetensors header without loading tensors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors import safe_open

from imajin.engine.families import FAMILIES, PIPELINE_CLASS_FAMILIES, FamilyId
from imajin.engine.sources import path_exists
from imajin.engine.spec import ModelSpec
from imajin.errors import InvalidInput, NotFound

MODEL_CARD = "imajin.json"
_CARD_FIELDS = ("name", "style", "native", "scheduler", "steps", "guidance", "prediction")

# Key prefixes that identify an original-format (A1111/ComfyUI) checkpoint's family.
_CHECKPOINT_MARKERS: tuple[tuple[str, FamilyId | None], ...] = (
    ("conditioner.embedders.1.", "sdxl"),
    ("model.diffusion_model.joint_blocks.", "sd3"),
    ("joint_blocks.0.context_block.", "sd3"),
    ("model.diffusion_model.layers.0.adaLN_modulation.", "zimage"),
    ("layers.0.adaLN_modulation.", "zimage"),
    ("cond_stage_model.model.", None),  # SD 2.x (OpenCLIP text encoder): not supported
    ("cond_stage_model.transformer.", "sd15"),
)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path} is not readable JSON: {exc}", field="model") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} must hold a JSON object", field="model")
    return data


def _folder_family(folder: Path, card: dict[str, Any]) -> FamilyId:
    if card.get("family") in FAMILIES:
        return card["family"]  # type: ignore[no-any-return]
    index = folder / "model_index.json"
    if not index.is_file():
        raise InvalidInput(
            f"{folder} is not a diffusers pipeline folder (no model_index.json); point at a "
            "folder written by save_pretrained or at a .safetensors checkpoint",
            field="model",
        )
    class_name = _read_json(index).get("_class_name", "")
    if class_name not in PIPELINE_CLASS_FAMILIES:
        known = ", ".join(PIPELINE_CLASS_FAMILIES)
        raise InvalidInput(
            f"{folder} holds a {class_name or 'unnamed'} pipeline; imajin runs {known}",
            field="model",
        )
    return PIPELINE_CLASS_FAMILIES[class_name]


def _folder_native(folder: Path, family: FamilyId) -> int:
    for component in ("unet", "transformer"):
        config = folder / component / "config.json"
        if config.is_file():
            sample_size = _read_json(config).get("sample_size")
            if isinstance(sample_size, int):
                return sample_size * 8
    return FAMILIES[family].native


def _folder_prediction(folder: Path) -> str:
    config = folder / "scheduler" / "scheduler_config.json"
    if config.is_file():
        prediction = _read_json(config).get("prediction_type")
        if prediction in ("epsilon", "v_prediction"):
            return str(prediction)
    return "epsilon"


def checkpoint_family(path: Path) -> tuple[FamilyId, bool]:
    """Family of a single-file checkpoint and whether it is v-prediction, from its keys.

    Raises:
        InvalidInput: Not a safetensors file, or an architecture imajin does not run.
    """
    try:
        with safe_open(str(path), framework="pt") as handle:
            keys = list(handle.keys())
    except Exception as exc:  # safetensors raises its own error types
        raise InvalidInput(
            f"{path} is not a readable .safetensors file: {exc}", field="model"
        ) from exc
    v_prediction = "v_pred" in keys  # the marker NoobAI/reForge-style v-pred checkpoints carry
    for prefix, family in _CHECKPOINT_MARKERS:
        if any(key.startswith(prefix) for key in keys):
            if family is None:
                break
            return family, v_prediction
    raise InvalidInput(
        f"cannot tell which architecture {path.name} is for (SD 1.5, SDXL, SD3 and Z-Image "
        "checkpoints are recognised); add it to <data_dir>/models/manifest.yaml with `family:`",
        field="model",
    )


def describe_local_model(path: Path) -> ModelSpec:
    """A :class:`ModelSpec` for a local model folder or ``.safetensors`` file.

    The spec's ``id`` is the absolute path, so parameters recorded with it
    resolve to the same model again.

    Raises:
        NotFound: Nothing exists at ``path``.
        InvalidInput: It exists but is not a model imajin can run.
    """
    path = path.expanduser().resolve()
    if not path_exists(path):
        raise NotFound(f"no model at {path}; check the path", field="model")
    card: dict[str, Any] = {}
    if path.is_dir():
        if (path / MODEL_CARD).is_file():
            card = _read_json(path / MODEL_CARD)
        family = _folder_family(path, card)
        defaults: dict[str, Any] = {
            "native": _folder_native(path, family),
            "prediction": _folder_prediction(path),
        }
    else:
        if path.suffix != ".safetensors":
            raise InvalidInput(
                f"{path.name}: only .safetensors checkpoints are loaded (pickled files can run "
                "code); convert it first",
                field="model",
            )
        family, v_prediction = checkpoint_family(path)
        defaults = {
            "native": FAMILIES[family].native,
            "prediction": "v_prediction" if v_prediction else "epsilon",
        }
    info = FAMILIES[family]
    fields: dict[str, Any] = {
        "name": path.stem if path.is_file() else path.name,
        "style": "photorealistic",
        "scheduler": info.scheduler,
        "steps": info.steps,
        "guidance": info.guidance,
        **defaults,
    }
    fields.update({key: card[key] for key in _CARD_FIELDS if key in card})
    try:
        return ModelSpec(
            id=str(path), family=family, source=str(path), status="available", **fields
        )
    except ValueError as exc:
        raise InvalidInput(f"{path / MODEL_CARD} has a bad value: {exc}", field="model") from exc
