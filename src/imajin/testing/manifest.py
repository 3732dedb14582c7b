"""Make a data directory whose operator manifest lists tiny models, for engine tests."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from imajin.testing.tiny_models import MODEL_CARD_NAME

TINY_MODEL_IDS = {
    "sd15": "tiny-sd15",
    "sdxl": "tiny-sdxl",
    "sd3": "tiny-sd3",
    "zimage": "tiny-zimage",
}
TINY_STYLE_DEFAULTS = {"photorealistic": "tiny-sd15", "anime": "tiny-sdxl"}


def write_tiny_manifest(
    data_dir: Path,
    models: Mapping[str, Path],
    *,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write ``<data_dir>/models/manifest.yaml`` listing ``models`` (id → tiny model folder).

    Each entry is filled from the folder's ``imajin.json`` card, so it loads
    through the registry exactly like a shipped model; ``overrides`` (id → fields)
    changes fields, e.g. ``{"tiny-sdxl": {"style": "anime"}}``. Returns the manifest path.
    """
    entries = []
    for model_id, folder in models.items():
        card = json.loads((folder / MODEL_CARD_NAME).read_text(encoding="utf-8"))
        entry = {"id": model_id, "source": str(folder.resolve()), "status": "available", **card}
        entries.append({**entry, **(overrides or {}).get(model_id, {})})
    manifest = data_dir / "models" / "manifest.yaml"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(yaml.safe_dump({"models": entries}, sort_keys=False), encoding="utf-8")
    return manifest


def install_loras(data_dir: Path, loras: Mapping[str, Path]) -> Path:
    """Copy LoRAs into ``<data_dir>/models/loras`` as ``<id>.safetensors``; returns the folder."""
    folder = data_dir / "models" / "loras"
    folder.mkdir(parents=True, exist_ok=True)
    for lora_id, path in loras.items():
        shutil.copyfile(path, folder / f"{lora_id}.safetensors")
    return folder
