"""Profile request and response bodies (SPEC §6.2); every field name is contract.

``/v1/profile/analyze`` and ``/create`` take multipart forms (a ``selfie`` file, an
optional ``style`` field), described in the OpenAPI document by
:func:`selfie_form`; ``/generate`` takes JSON.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

AvatarStyle = Literal["photorealistic", "anime"]
FeatureValue = str | bool | int | float | list[str] | None
MAX_FEATURES = 40
MAX_FEATURE_CHARS = 200


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Answer(BaseModel):
    # Built from a job's result, which holds more (timings, the stored avatar's names).
    model_config = ConfigDict(extra="ignore")


class FaceBox(_Body):
    x: StrictInt = Field(ge=0)
    y: StrictInt = Field(ge=0)
    width: StrictInt = Field(gt=0)
    height: StrictInt = Field(gt=0)


class FaceReport(_Body):
    detected: bool
    box: FaceBox | None = Field(description="In pixels of the upright (EXIF-rotated) selfie.")
    quality_score: float = Field(ge=0.0, le=1.0)
    faces_found: StrictInt = Field(ge=0, description="The largest face is the one used.")


class ProfileGenerateRequest(_Body):
    features: dict[str, FeatureValue] = Field(
        max_length=MAX_FEATURES,
        description="As /v1/profile/analyze returned them: only the feature schema's fields "
        "(vision.features_file) and values; a field left out is not drawn.",
    )
    style: AvatarStyle | None = None
    seed: StrictInt | None = Field(None, ge=0, le=2**32 - 1)

    @field_validator("features")
    @classmethod
    def _bounded(cls, features: dict[str, FeatureValue]) -> dict[str, FeatureValue]:
        for key, value in features.items():
            if len(key) > 64:
                raise ValueError(f"feature names have at most 64 characters; {key[:64]!r}…")
            text = " ".join(value) if isinstance(value, list) else str(value)
            if len(text) > MAX_FEATURE_CHARS:
                raise ValueError(
                    f"feature {key!r} has {len(text)} characters; at most "
                    f"{MAX_FEATURE_CHARS} are accepted."
                )
        return features


class ProfileAnalyzeResponse(_Answer):
    # FeatureValue, as /generate takes them: an analysis can be sent back unchanged.
    features: dict[str, FeatureValue] | None = Field(
        description="null when no vision model is set."
    )
    face: FaceReport
    message: str | None = Field(None, description="Why `features` is null, when it is.")
    job_id: str
    selfie_id: str | None = Field(
        None, description="Set when selfies are kept: DELETE /v1/profile/selfies/{selfie_id}."
    )


class ProfileGenerateResponse(_Answer):
    image_base64: str
    prompt_used: str
    seed: StrictInt
    job_id: str


class ProfileCreateResponse(_Answer):
    image_base64: str
    prompt_used: str
    features: dict[str, FeatureValue]
    face: FaceReport
    seed: StrictInt
    job_id: str
    selfie_id: str | None = None


def selfie_form(*, style: bool) -> dict[str, Any]:
    """The OpenAPI request body of /analyze (``style=False``) and /create (read by
    :mod:`imajin.api.uploads`, not by FastAPI)."""
    properties: dict[str, Any] = {
        "selfie": {
            "type": "string",
            "format": "binary",
            "description": "JPEG, PNG or WebP (by content), within gateway.profile.max_bytes "
            "and max_pixels.",
        }
    }
    if style:
        properties["style"] = {"type": "string", "enum": ["photorealistic", "anime"]}
    schema = {"type": "object", "required": ["selfie"], "properties": properties}
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
