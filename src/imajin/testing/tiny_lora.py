"""Tiny PEFT LoRA files for the tiny pipelines, made the way trainers make them.

A ``peft.LoraConfig`` is attached to the tiny model's denoiser (UNet or SD3
transformer), its weights are randomised (PEFT starts ``lora_B`` at zero, which
would make the LoRA a no-op), and the adapter is written with the pipeline's
own ``save_lora_weights``. The file also carries the SAI ``modelspec.architecture``
header that real trainers write, so the engine can tell which base it is for.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import diffusers
import torch
from peft import LoraConfig
from peft.utils import get_peft_model_state_dict
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from imajin.testing.tiny_models import TinyFamily

# The architecture strings of the SAI model spec (https://github.com/Stability-AI/ModelSpec).
LORA_ARCHITECTURES: dict[TinyFamily, str] = {
    "sd15": "stable-diffusion-v1/lora",
    "sdxl": "stable-diffusion-xl-v1-base/lora",
    "sd3": "stable-diffusion-v3-medium/lora",
    "zimage": "z-image-turbo/lora",
}
_TARGET_MODULES = ["to_q", "to_k", "to_v", "to_out.0"]
_PIPELINES: dict[TinyFamily, str] = {
    "sd15": "StableDiffusionPipeline",
    "sdxl": "StableDiffusionXLPipeline",
    "sd3": "StableDiffusion3Pipeline",
    "zimage": "ZImagePipeline",
}


def build_tiny_lora(
    base_path: Path | str,
    out_path: Path | str,
    *,
    family: TinyFamily,
    rank: int = 4,
    seed: int = 1,
    scale: float = 0.5,
    with_architecture: bool = True,
) -> Path:
    """Write a random-weight LoRA for the tiny model at ``base_path`` to ``out_path``.

    Args:
        base_path: A folder made by one of the ``build_tiny_*`` builders.
        out_path: The ``.safetensors`` file to write (its folder is created).
        family: The base's family; picks the pipeline class that saves the file.
        rank: LoRA rank (``r``); ``lora_alpha`` equals it, so the PEFT scale is 1.
        seed: Torch seed for the LoRA weights; different seeds give different LoRAs.
        scale: Standard deviation of the random weights (large enough to change images).
        with_architecture: Write the ``modelspec.architecture`` header (real trainers do);
            ``False`` makes a bare file whose base can only be told from its shapes.

    Returns:
        ``out_path`` as a ``Path``.
    """
    out_path = Path(out_path)
    if out_path.suffix != ".safetensors":
        raise ValueError(f"LoRA files are .safetensors; got {out_path.name!r}")
    pipeline_class: Any = getattr(diffusers, _PIPELINES[family])
    pipe = pipeline_class.from_pretrained(Path(base_path), local_files_only=True)
    denoiser = pipe.unet if family in ("sd15", "sdxl") else pipe.transformer
    config = LoraConfig(
        r=rank, lora_alpha=rank, init_lora_weights=True, target_modules=_TARGET_MODULES
    )
    denoiser.add_adapter(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for name, parameter in denoiser.named_parameters():
            if ".lora_A." in name or ".lora_B." in name:
                with torch.no_grad():
                    parameter.normal_(mean=0.0, std=scale)
    layers = get_peft_model_state_dict(denoiser)
    metadata: dict[str, Any] = config.to_dict()  # type: ignore[no-untyped-call]
    with tempfile.TemporaryDirectory() as scratch:
        if family in ("sd3", "zimage"):
            pipeline_class.save_lora_weights(
                scratch,
                transformer_lora_layers=layers,
                transformer_lora_adapter_metadata=metadata,
                weight_name="lora.safetensors",
            )
        else:
            pipeline_class.save_lora_weights(
                scratch,
                unet_lora_layers=layers,
                unet_lora_adapter_metadata=metadata,
                weight_name="lora.safetensors",
            )
        _rewrite_with_header(
            Path(scratch) / "lora.safetensors",
            out_path,
            family=family,
            with_architecture=with_architecture,
        )
    return out_path


def _rewrite_with_header(
    source: Path, target: Path, *, family: TinyFamily, with_architecture: bool
) -> None:
    with safe_open(str(source), framework="pt") as handle:
        header = dict(handle.metadata() or {})
    if with_architecture:
        header["modelspec.architecture"] = LORA_ARCHITECTURES[family]
        header["modelspec.title"] = f"tiny-{family}-lora"
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(load_file(str(source)), str(target), metadata=header)
