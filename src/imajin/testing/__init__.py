"""Test doubles that ship with imajin: tiny random-weight pipelines and LoRAs.

Everything here builds real diffusers/transformers/PEFT objects with a handful
of channels, so the engine's real code path runs offline on a CPU in well
under a second per image. See :mod:`imajin.testing.pytest_plugin` for fixtures.

Names are imported lazily: importing ``imajin.testing`` (for instance as a
pytest plugin) does not import torch or diffusers until a builder is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imajin.lazy import lazy_attributes

if TYPE_CHECKING:
    from imajin.testing.tiny_lora import LORA_ARCHITECTURES, build_tiny_lora
    from imajin.testing.tiny_models import (
        MODEL_CARD_NAME,
        TINY_FAMILIES,
        TINY_NATIVE,
        TINY_STEPS,
        TinyFamily,
        build_tiny_model,
        build_tiny_sd3,
        build_tiny_sd15,
        build_tiny_sdxl,
        build_tiny_zimage,
    )
    from imajin.testing.tiny_vlm import build_tiny_qwen2_vl

_LAZY = {
    "LORA_ARCHITECTURES": "imajin.testing.tiny_lora",
    "build_tiny_lora": "imajin.testing.tiny_lora",
    "MODEL_CARD_NAME": "imajin.testing.tiny_models",
    "TINY_FAMILIES": "imajin.testing.tiny_models",
    "TINY_NATIVE": "imajin.testing.tiny_models",
    "TINY_STEPS": "imajin.testing.tiny_models",
    "TinyFamily": "imajin.testing.tiny_models",
    "build_tiny_model": "imajin.testing.tiny_models",
    "build_tiny_sd3": "imajin.testing.tiny_models",
    "build_tiny_sd15": "imajin.testing.tiny_models",
    "build_tiny_sdxl": "imajin.testing.tiny_models",
    "build_tiny_zimage": "imajin.testing.tiny_models",
    "build_tiny_qwen2_vl": "imajin.testing.tiny_vlm",
}

__all__ = [
    "LORA_ARCHITECTURES",
    "MODEL_CARD_NAME",
    "TINY_FAMILIES",
    "TINY_NATIVE",
    "TINY_STEPS",
    "TinyFamily",
    "build_tiny_lora",
    "build_tiny_model",
    "build_tiny_qwen2_vl",
    "build_tiny_sd3",
    "build_tiny_sd15",
    "build_tiny_sdxl",
    "build_tiny_zimage",
]


__getattr__ = lazy_attributes(__name__, _LAZY)
