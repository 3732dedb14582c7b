"""What a LoRA file's safetensors header says, read without torch or its tensors.

A safetensors file starts with an 8-byte little-endian length and that many
bytes of JSON (each tensor's dtype, shape and offsets, plus ``__metadata__``),
so listing a folder of LoRAs reads a few kilobytes per file and imports nothing heavy.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from imajin.errors import InvalidInput

DOWN_SUFFIXES = (
    ".lora_A.weight",
    ".lora.down.weight",
    ".lora_down.weight",
    ".lora_linear_layer.down.weight",
)
UP_SUFFIXES = (
    ".lora_B.weight",
    ".lora.up.weight",
    ".lora_up.weight",
    ".lora_linear_layer.up.weight",
)
# A header larger than this is not a LoRA's (safetensors itself caps headers at 100 MB).
MAX_HEADER_BYTES = 100_000_000
# Width of the text embedding a UNet's cross-attention reads, per architecture.
_CROSS_ATTENTION_WIDTH = {768: "sd15", 1024: "sd2", 2048: "sdxl"}
_CROSS_ATTENTION_KEY = re.compile(r"attn2[._]to_k.*(lora_A|lora_down|lora\.down)")
_ARCHITECTURE_PREFIXES = (
    ("stable-diffusion-xl", "sdxl"),
    ("stable-diffusion-v1", "sd15"),
    ("stable-diffusion-v2", "sd2"),
    ("stable-diffusion-v3", "sd3"),
    ("stable-diffusion-3", "sd3"),
    ("flux", "flux"),
    ("z-image", "zimage"),
    ("sdxl", "sdxl"),
    ("sd_v1", "sd15"),
    ("sd_v2", "sd2"),
    ("sd3", "sd3"),
)


@dataclass(frozen=True)
class LoraHeader:
    """What a LoRA file's header says, read without loading its tensors."""

    shapes: dict[str, tuple[int, ...]]
    metadata: dict[str, str] = field(default_factory=dict)


def holds_lora_weights(header: LoraHeader) -> bool:
    """Whether any key names a LoRA layer (a base checkpoint has none)."""
    return any(key.endswith(DOWN_SUFFIXES + UP_SUFFIXES) or "lora" in key for key in header.shapes)


def read_header_json(path: Path, *, field: str) -> LoraHeader:
    """Shapes and metadata from the JSON header of a safetensors file.

    Raises:
        InvalidInput: The file is not a readable safetensors file.
    """
    try:
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > MAX_HEADER_BYTES:
                raise ValueError(f"header of {length} bytes is over {MAX_HEADER_BYTES}")
            raw = json.loads(handle.read(length))
        if not isinstance(raw, dict):
            raise ValueError("header is not a JSON object")
        metadata = raw.pop("__metadata__", None) or {}
        shapes = {str(key): tuple(int(n) for n in entry["shape"]) for key, entry in raw.items()}
    except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
        raise InvalidInput(
            f"{field}: {path.name} is not a readable .safetensors LoRA file ({exc})", field=field
        ) from exc
    return LoraHeader(shapes=shapes, metadata={str(k): str(v) for k, v in metadata.items()})


def detect_family(header: LoraHeader) -> str | None:
    """The architecture a LoRA was made for, from its metadata, key names or widths."""
    declared = (
        header.metadata.get("modelspec.architecture")
        or header.metadata.get("ss_base_model_version")
        or ""
    ).lower()
    for prefix, family in _ARCHITECTURE_PREFIXES:
        if declared.startswith(prefix):
            return family
    keys = header.shapes.keys()
    if any("single_transformer_blocks" in k or "double_blocks" in k for k in keys):
        return "flux"
    if any("joint_blocks" in k or ("transformer_blocks" in k and "add_k_proj" in k) for k in keys):
        return "sd3"
    if any(k.startswith(("lora_te2_", "text_encoder_2.", "lora_unet_input_blocks_")) for k in keys):
        return "sdxl"
    for key, shape in header.shapes.items():
        if _CROSS_ATTENTION_KEY.search(key) and len(shape) >= 2:
            return _CROSS_ATTENTION_WIDTH.get(shape[1])
    return None
