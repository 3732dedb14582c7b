"""Batch studio settings (the ``studio:`` section of the configuration).

``studio.defaults`` is what a batch or a single generation uses when the
request (or the set) does not say. It is the one part an admin may change at
run time (``PUT /api/config``); those edits are kept in
``<data_dir>/studio-config.yaml`` and win over this section.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

# Re-exported (explicitly, for strict type checkers): the studio's settings name it here.
from imajin.contracts.studio import ImageFormat as ImageFormat  # noqa: PLC0414


class StudioDefaults(BaseModel):
    """Generation defaults of the studio; editable at run time, so every field is checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(
        "stable-diffusion-v1-5",
        min_length=1,
        max_length=500,
        description="Model for batches and /api/generate: a style, a model id or a local path.",
    )
    steps: int | None = Field(
        None, ge=1, le=100, description="Denoising steps; null = the model's default."
    )
    guidance: float | None = Field(
        None, ge=1.0, le=20.0, description="CFG scale; null = the model's default."
    )
    scheduler: str | None = Field(
        None, max_length=64, description="Sampler name; null = the model's default."
    )
    image_format: ImageFormat = Field(
        "png", description="File format of generated images (metadata is embedded in both)."
    )
    webp_quality: int = Field(95, ge=1, le=100, description="Quality when image_format is webp.")


class StudioSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    queue: str = Field(
        "studio",
        min_length=1,
        max_length=64,
        description="Queue of batch items and single generations (capacity: jobs.queues).",
    )
    max_batch_items: int = Field(
        500, ge=1, le=10_000, description="Rows a set may have (one job each)."
    )
    max_theme_chars: int = Field(500, ge=1, le=2000, description="Longest user theme accepted.")
    thumbnail_px: int = Field(
        256,
        ge=32,
        le=1024,
        description="Longest side of the WebP thumbnail kept beside each image.",
    )
    themes_file: Path | None = Field(
        None, description="YAML list of themes for /api/themes/random; null = the shipped list."
    )
    defaults: StudioDefaults = StudioDefaults()
