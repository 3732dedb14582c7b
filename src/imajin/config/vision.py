"""The ``vision:`` section: which model describes a selfie's visible features (SPEC §6.2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class VisionSettings(BaseModel):
    """Feature extraction by a vision-language model, an ``llm.models`` entry with vision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    face_detector: str = Field(
        "opencv-haar",
        min_length=1,
        max_length=200,
        description="The face detector: a registered backend name (opencv-haar ships), or "
        "`package.module:ClassName` of a FaceDetector subclass to load your own.",
    )
    face_detector_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options of the face detector, checked by its options model at start-up.",
    )
    features_model: str | None = Field(
        None,
        description="A key of llm.models whose backend has the vision capability (the "
        "transformers-vlm backend, or openai with options.vision: true); null: no feature "
        "extraction, so profile analysis returns the face only.",
    )
    features_file: Path | None = Field(
        None,
        description="YAML replacing the shipped feature schema and question "
        "(imajin/vision/features.yaml); null = the shipped file.",
    )
    features_max_side: int = Field(
        768,
        ge=64,
        le=4096,
        description="Longest side in pixels of each image shown to the model (the face crop "
        "and the whole photo); larger images are scaled down first.",
    )
    features_image_format: Literal["jpeg", "png"] = Field(
        "jpeg", description="How the images are encoded for the model: jpeg (smaller) or png."
    )
    features_retries: int = Field(
        2,
        ge=0,
        le=10,
        description="Extra answers asked for when one is not valid JSON for the feature "
        "schema; after them the profile fails with 502 naming the features stage.",
    )
    features_timeout_s: float | None = Field(
        None,
        gt=0,
        description="Seconds per answer of the vision model in a profile job (then 504 "
        "naming the features stage); null = gateway.endpoints.profile.timeout_s.",
    )
