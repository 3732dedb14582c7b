"""LoRA training over HTTP (``/api/training``): folders, defaults, and launching a run."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    model_validator,
)

from imajin.contracts.common import WholeFloat

__all__ = [
    "TrainingCreate",
    "TrainingDefaults",
    "TrainingFolder",
    "TrainingImage",
    "TrainingOverrides",
]

# What `train_lora` jobs accept as an output name (the LoRA's id).
LORA_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
# An uploaded image's file name: a plain stem and an image suffix.
IMAGE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}\.(png|jpg|jpeg|webp|PNG|JPG|JPEG|WEBP)$"
MAX_UPLOADED_IMAGES = 200


class _Body(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


# A folder under the training area. No docstring: it would become the schema's description.
class TrainingFolder(_Body):
    path: str = Field(description="Relative to the training area; what `folder` takes.")
    images: int = Field(ge=0, description="Image files in it (not counting subfolders).")
    captioned: int = Field(ge=0, description="Images with a non-empty caption file beside them.")
    ready: bool = Field(description="At least one image, and every image has its caption.")


class TrainingDefaults(_Body):
    settings: dict[str, Any] = Field(description="The configured `training:` settings.")
    descriptions: dict[str, str] = Field(description="What each setting does, by name.")
    bases: list[str] = Field(description="Model ids training accepts as a base (SD 1.5, SDXL).")
    default_base: str | None = Field(alias="defaultBase")


class TrainingImage(_Body):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    name: str = Field(pattern=IMAGE_NAME, description="File name, e.g. `item01.png`.")
    image_base64: str = Field(
        alias="imageBase64", min_length=1, description="The image file, base64-encoded."
    )
    caption: str = Field(min_length=1, max_length=2000)


# One run's settings over the configured `training:` ones (imajin.config.training has the
# same names and bounds; a test keeps the two equal). Unset fields keep the configured value.
class TrainingOverrides(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rank: Annotated[StrictInt | None, Field(ge=1, le=256), WholeFloat] = None
    alpha: Annotated[StrictInt | None, Field(ge=1, le=1024), WholeFloat] = None
    dropout: StrictFloat | None = Field(None, ge=0.0, lt=1.0)
    learning_rate: StrictFloat | None = Field(None, gt=0, le=1.0)
    lr_warmup_steps: Annotated[StrictInt | None, Field(ge=0, le=1_000_000), WholeFloat] = None
    weight_decay: StrictFloat | None = Field(None, ge=0.0, le=1.0)
    max_grad_norm: StrictFloat | None = Field(None, ge=0.0, le=1e6)
    max_steps: Annotated[StrictInt | None, Field(ge=1, le=1_000_000), WholeFloat] = None
    save_every: Annotated[StrictInt | None, Field(ge=1, le=1_000_000), WholeFloat] = None
    keep_checkpoints: Annotated[StrictInt | None, Field(ge=1, le=100), WholeFloat] = None
    batch_size: Annotated[StrictInt | None, Field(ge=1, le=64), WholeFloat] = None
    gradient_accumulation: Annotated[StrictInt | None, Field(ge=1, le=256), WholeFloat] = None
    resolution: Annotated[StrictInt | None, Field(ge=64, le=2048, multiple_of=8), WholeFloat] = None
    seed: Annotated[StrictInt | None, Field(ge=0, le=2**32 - 1), WholeFloat] = None
    mixed_precision: Literal["auto", "no", "fp16", "bf16"] | None = None
    gradient_checkpointing: StrictBool | None = None
    device: str | None = Field(None, pattern=r"^(auto|cpu|mps|cuda(:\d{1,2})?)$")


class TrainingCreate(_Body):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        serialize_by_alias=True,
        # Exactly one of the two, as `_folder_or_images` checks, said in the schema.
        json_schema_extra={
            "oneOf": [
                {"required": ["folder"], "properties": {"folder": {"type": "string"}}},
                {"required": ["images"], "properties": {"images": {"type": "array"}}},
            ]
        },
    )

    base: str = Field(min_length=1, max_length=200, description="A model id or a style.")
    output: str = Field(pattern=LORA_NAME, description="The new LoRA's id (its file stem).")
    folder: str | None = Field(
        None, min_length=1, max_length=500, description="A folder from `/api/training/folders`."
    )
    images: list[TrainingImage] | None = Field(
        None,
        min_length=1,
        max_length=MAX_UPLOADED_IMAGES,
        description="Images with captions to train on, instead of a folder.",
    )
    overrides: TrainingOverrides = Field(
        default_factory=TrainingOverrides,
        description="Settings for this run over the defaults (`max_steps`, `rank` ...).",
    )
    resume: StrictBool = Field(True, description="Continue from this output's newest checkpoint.")

    @model_validator(mode="after")
    def _folder_or_images(self) -> Self:
        if (self.folder is None) == (self.images is None):
            raise ValueError("give exactly one of `folder` and `images`")
        return self
