"""Settings for resizing and encoding masters and derivatives (the ``imaging`` section)."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# SPEC §3.1: the subject sits in the central 60-80% of each master.
SAFE_ZONE_MIN = 0.6
SAFE_ZONE_MAX = 0.8
DEFAULT_SAFE_ZONE = 0.7


class ImagingSettings(BaseModel):
    """How masters and derivatives are encoded; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    webp_quality: int = Field(
        85, ge=1, le=100, description="WebP quality of derivatives (1-100, lossy)."
    )
    master_quality: int = Field(
        92,
        ge=1,
        le=100,
        description="WebP quality of masters; every derivative is cut from a master, "
        "so it must be at least `webp_quality`.",
    )
    webp_effort: int = Field(
        4, ge=0, le=6, description="libwebp effort (method) 0-6: higher is smaller and slower."
    )
    safe_zone: float = Field(
        DEFAULT_SAFE_ZONE,
        ge=SAFE_ZONE_MIN,
        le=SAFE_ZONE_MAX,
        description="Fraction of each master dimension, centred, where the subject sits.",
    )
    threads: int = Field(
        0,
        ge=0,
        le=64,
        description="Images encoded at once, in the one pool that every family and "
        "variation job shares; 0 means one per CPU core.",
    )

    @model_validator(mode="after")
    def _master_not_worse_than_derivatives(self) -> Self:
        # A derivative cut from a lower-quality master inherits its artefacts.
        if self.master_quality < self.webp_quality:
            raise ValueError(
                f"master_quality ({self.master_quality}) must be at least "
                f"webp_quality ({self.webp_quality}): derivatives are cut from the master"
            )
        return self
