"""LoRA training settings (the ``training:`` section of the configuration).

These are the defaults of ``imajin train-lora`` and of ``train_lora`` jobs; a
flag or a job's ``overrides`` replaces any of them for one run.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from imajin.config.engine import check_device_name

MixedPrecision = Literal["auto", "no", "fp16", "bf16"]


class TrainingSettings(BaseModel):
    """How a LoRA is trained: adapter shape, optimiser, schedule, checkpoints, device."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rank: int = Field(16, ge=1, le=256, description="LoRA rank (r): width of the update.")
    alpha: int = Field(
        16, ge=1, le=1024, description="LoRA alpha; the update is scaled by alpha / rank."
    )
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="Dropout on the LoRA branch.")
    learning_rate: float = Field(1e-4, gt=0, le=1.0, description="AdamW learning rate.")
    lr_warmup_steps: int = Field(
        0, ge=0, description="Steps over which the learning rate ramps up linearly from 0."
    )
    weight_decay: float = Field(1e-2, ge=0.0, le=1.0, description="AdamW weight decay.")
    max_grad_norm: float = Field(
        1.0, ge=0.0, description="Clip the gradient norm to this; 0 turns clipping off."
    )
    max_steps: int = Field(1000, ge=1, le=1_000_000, description="Optimiser steps in total.")
    save_every: int = Field(
        250, ge=1, description="Write a resumable checkpoint every this many steps."
    )
    keep_checkpoints: int = Field(2, ge=1, le=100, description="Newest checkpoints kept.")
    batch_size: int = Field(1, ge=1, le=64, description="Images per forward pass.")
    gradient_accumulation: int = Field(
        1, ge=1, le=256, description="Forward passes summed into one optimiser step."
    )
    resolution: int | None = Field(
        None,
        ge=64,
        le=2048,
        description="Training side in pixels (a multiple of 8); images are resized and "
        "centre-cropped to it. Unset: the base model's native size.",
    )
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seeds LoRA init, noise and data order.")
    mixed_precision: MixedPrecision = Field(
        "auto",
        description="auto (bf16 on CUDA GPUs that have it, else fp16; none on CPU/MPS), "
        "no, fp16 or bf16. fp16/bf16 need a CUDA GPU.",
    )
    gradient_checkpointing: bool = Field(
        False, description="Recompute activations in the backward pass: less VRAM, ~30% slower."
    )
    device: str = Field("auto", description="auto (CUDA, then MPS, then CPU), cpu, cuda[:N], mps.")

    @field_validator("resolution")
    @classmethod
    def _multiple_of_eight(cls, value: int | None) -> int | None:
        # The VAE downsamples by 8; other sides would be cropped silently.
        if value is not None and value % 8:
            raise ValueError(f"resolution must be a multiple of 8; got {value}")
        return value

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        return check_device_name(value)
