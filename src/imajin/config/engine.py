"""The engine's settings (the ``engine:`` section of the configuration)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
DTYPES = ("auto", "float32", "float16", "bfloat16")

Dtype = Literal["auto", "float32", "float16", "bfloat16"]
CpuOffload = Literal["none", "model", "sequential"]


def check_device_name(value: str) -> str:
    """Return ``value`` if it names a device (``auto``, ``cpu``, ``mps``, ``cuda``, ``cuda:N``)."""
    if not _DEVICE.match(value):
        raise ValueError(
            f"{value!r} is not a device; use auto, cpu, mps, cuda or cuda:N (N = GPU index)"
        )
    return value


class StyleDefaults(BaseModel):
    """Which model a request for a style gets (``model: "anime"``)."""

    model_config = ConfigDict(extra="forbid")

    photorealistic: str = Field(
        default="juggernaut-xi-v11", description="Model id used for `model: photorealistic`."
    )
    anime: str = Field(
        default="animagine-xl-4.0-opt", description="Model id used for `model: anime`."
    )


class EngineSettings(BaseModel):
    """How the engine loads and runs models. Every key has a safe default."""

    model_config = ConfigDict(extra="forbid")

    defaults: StyleDefaults = Field(
        default_factory=StyleDefaults, description="Style → default model id."
    )
    device: str = Field(
        default="auto",
        description="auto (CUDA, then MPS, then CPU), cpu, mps, cuda or cuda:N.",
    )
    devices: dict[str, str] = Field(
        default_factory=dict,
        description="Model id → device, to place models on different GPUs (overrides `device`).",
    )
    dtype: Dtype = Field(
        default="auto",
        description="auto: float16 (bfloat16 for SD3/Z-Image) on CUDA, float16 on MPS, "
        "float32 on CPU. float16 on a CPU falls back to float32.",
    )
    attention_slicing: bool = Field(default=False, description="Trade speed for less VRAM.")
    vae_slicing: bool = Field(default=False, description="Decode images one at a time.")
    vae_tiling: bool = Field(default=False, description="Decode large images in tiles.")
    cpu_offload: CpuOffload = Field(
        default="none",
        description="none; model (whole components move to the GPU in turn); "
        "sequential (layer by layer: least VRAM, slowest).",
    )
    torch_compile: bool = Field(
        default=False, description="torch.compile the denoiser (slow first run, faster after)."
    )
    memory_budget_gb: float | None = Field(
        default=None,
        gt=0,
        description="Weights kept warm per device, in GB; least recently used models are "
        "evicted beyond it. Unset: 85% of the GPU's memory, or half the RAM on a CPU.",
    )
    cpu_threads: int | None = Field(
        default=None, ge=1, description="torch intra-op threads on CPU; unset = torch's default."
    )
    max_batch: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Images denoised together in one pipeline call when requests share model, "
        "size, steps, sampler, guidance and LoRAs. Unset: 1 on CPU/MPS; on CUDA 8 from 40 GB "
        "of device memory, 4 from 20 GB, else 2. Above 1 on CPU, every image of the model "
        "is made with batch-invariant kernels, so a batched image equals the image made alone.",
    )
    max_batches: dict[str, int] = Field(
        default_factory=dict,
        description="Model id → max_batch for that model (overrides `max_batch`).",
    )
    offline: bool = Field(
        default=True,
        description="Use only weights already on disk (HF cache or local paths); "
        "false lets missing models download from the Hugging Face hub.",
    )
    cache_dir: Path | None = Field(
        default=None, description="Hugging Face cache folder; unset = HF_HOME / the default."
    )
    lora_dirs: list[Path] = Field(
        default_factory=list,
        description="Extra folders searched for LoRA ids (after <data_dir>/models/loras).",
    )
    embed_metadata: bool = Field(
        default=True, description="Write generation parameters into saved PNG/WebP files."
    )
    write_sidecar: bool = Field(
        default=False, description="Also write <image>.json with the parameters."
    )
    previews: bool = Field(
        default=True,
        description="Send a small live preview (a latent → RGB approximation, no extra "
        "weights) over a job's event stream while it denoises.",
    )
    preview_every_steps: int = Field(
        default=1, ge=1, le=1000, description="At most one preview every this many steps."
    )
    preview_interval_s: float = Field(
        default=0.5, ge=0.0, le=60.0, description="At least this long between two previews."
    )

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        return check_device_name(value)

    @field_validator("devices")
    @classmethod
    def _check_devices(cls, value: dict[str, str]) -> dict[str, str]:
        for device in value.values():
            check_device_name(device)
        return value
