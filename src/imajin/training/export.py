"""Write a trained LoRA as the file the engine loads: diffusers/PEFT keys plus a model-spec header.

The tensors and PEFT adapter metadata (rank, alpha: without it diffusers
would guess alpha = rank) are written by the pipeline's own
``save_lora_weights``; the header then gains ``modelspec.architecture`` (the
SAI model-spec string the engine reads to refuse a LoRA on the wrong base)
and a record of how the LoRA was trained. The file appears atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import diffusers
import torch
from peft import LoraConfig
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from imajin.engine.families import FAMILIES, FamilyId

# SAI model-spec architecture strings (https://github.com/Stability-AI/ModelSpec).
LORA_ARCHITECTURES: dict[str, str] = {
    "sd15": "stable-diffusion-v1/lora",
    "sdxl": "stable-diffusion-xl-v1-base/lora",
}
_SCRATCH_NAME = "lora.safetensors"


def write_lora_file(
    path: Path,
    *,
    layers: dict[str, torch.Tensor],
    config: LoraConfig,
    family: FamilyId,
    training: dict[str, Any],
) -> Path:
    """Write ``layers`` (PEFT keys of the UNet) to ``path`` via a temporary file and a rename.

    Args:
        path: The ``.safetensors`` file to create or replace.
        layers: LoRA tensors as ``get_peft_model_state_dict`` returns them.
        config: The adapter's config (its rank and alpha go into the file).
        family: The base's family (``sd15`` or ``sdxl``): picks the pipeline class
            that saves and the architecture header.
        training: How it was trained (base, steps, rank ...), stored as JSON in
            the ``imajin.training`` header.

    Returns:
        ``path``.
    """
    pipeline_class: Any = getattr(diffusers, FAMILIES[family].pipeline_class)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The scratch folder sits beside the target so the final rename stays on one filesystem.
    with tempfile.TemporaryDirectory(prefix=".train-", dir=path.parent) as scratch:
        pipeline_class.save_lora_weights(
            scratch,
            unet_lora_layers=layers,
            unet_lora_adapter_metadata=config.to_dict(),  # type: ignore[no-untyped-call]
            weight_name=_SCRATCH_NAME,
        )
        saved = Path(scratch) / _SCRATCH_NAME
        with safe_open(str(saved), framework="pt") as handle:
            header = dict(handle.metadata() or {})
        header["modelspec.architecture"] = LORA_ARCHITECTURES[family]
        header["modelspec.title"] = path.stem
        header["imajin.training"] = json.dumps(training, sort_keys=True)
        final = Path(scratch) / f"final-{path.name}"
        save_file(load_file(str(saved)), str(final), metadata=header)
        with final.open("rb") as handle:
            os.fsync(handle.fileno())
        final.replace(path)
    return path
