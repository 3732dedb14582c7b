"""What a caller asks the engine for (``POST /api/generate``), checked before any model loads.

The engine (:mod:`imajin.engine.request`) re-exports these and adds the server's
parsing, which raises the platform's own error.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

from imajin.contracts.common import WholeFloat

__all__ = [
    "MAX_IMAGES",
    "MAX_LORAS",
    "MAX_LORA_WEIGHT",
    "MAX_PROMPT",
    "MAX_SEED",
    "MAX_SIDE",
    "GenerationRequest",
    "LoraRequest",
    "SchedulerName",
]

MAX_PROMPT = 2000
MAX_SEED = 2**32 - 1
MAX_SIDE = 4096
MAX_IMAGES = 16
MAX_LORAS = 8
MAX_LORA_WEIGHT = 5.0
_LORA_ID = re.compile(r"^[\w][\w.-]*$")

SchedulerName = Literal[
    "dpmpp_2m",
    "dpmpp_2m_karras",
    "dpmpp_2m_sde",
    "dpmpp_2m_sde_karras",
    "euler",
    "euler_a",
    "heun",
    "ddim",
    "unipc",
    "lcm",
]
"""The samplers a request may name (:mod:`imajin.engine.schedulers` builds them)."""


class LoraRequest(BaseModel):
    """One LoRA to apply: a ``.safetensors`` path or an id in the LoRA folders, and a weight."""

    model_config = ConfigDict(
        extra="forbid",
        # Exactly one of the two, as `_path_or_id` checks, said in the schema.
        json_schema_extra={
            "oneOf": [
                {"required": ["path"], "properties": {"path": {"type": "string"}}},
                {"required": ["id"], "properties": {"id": {"type": "string"}}},
            ]
        },
    )

    path: str | None = Field(default=None, description="Path of a .safetensors LoRA file.")
    id: str | None = Field(
        default=None,
        description="Name of a LoRA in <data_dir>/models/loras (file stem).",
        # What `_id_is_a_name` checks, said in the schema.
        json_schema_extra={"pattern": r"^(?!.*\.\.)\w[\w.-]*$"},
    )
    weight: StrictFloat = Field(
        default=1.0,
        ge=-MAX_LORA_WEIGHT,
        le=MAX_LORA_WEIGHT,
        description="Strength; 0 = no effect, above 1 is allowed but often overcooks.",
    )

    @field_validator("id")
    @classmethod
    def _id_is_a_name(cls, value: str | None) -> str | None:
        if value is not None and (not _LORA_ID.match(value) or ".." in value):
            raise ValueError("a LoRA id is a file name without folders (letters, digits, . _ -)")
        return value

    @model_validator(mode="after")
    def _path_or_id(self) -> LoraRequest:
        if (self.path is None) == (self.id is None):
            raise ValueError("give exactly one of `path` or `id`")
        return self

    @property
    def reference(self) -> str:
        """The path or id, whichever was given."""
        return self.path if self.path is not None else str(self.id)


def _multiple_of_8(name: str, value: int | None) -> int | None:
    if value is not None and value % 8:
        low, high = value - value % 8, value - value % 8 + 8
        raise ValueError(
            f"{name} must be a multiple of 8 (got {value}); the nearest valid values are "
            f"{low} and {high}"
        )
    return value


class GenerationRequest(BaseModel):
    """A text-to-image request. Unset values take the model's defaults."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(
        max_length=MAX_PROMPT,
        # The schema says what the blank check below enforces (and keeps its message).
        json_schema_extra={"pattern": r"\S"},
        description="What to draw.",
    )
    negative_prompt: str | None = Field(
        default=None,
        max_length=MAX_PROMPT,
        description="What to avoid; unset = the platform negative prompt for the model's style.",
    )
    model: str = Field(
        default="photorealistic",
        min_length=1,
        description="A style (photorealistic, anime), a model id, or a local model path.",
    )
    # multipleOf: the schema says what the size check says (and keeps its message).
    width: Annotated[StrictInt | None, Field(ge=64, le=MAX_SIDE), WholeFloat] = Field(
        default=None, description="Pixels; multiple of 8.", json_schema_extra={"multipleOf": 8}
    )
    height: Annotated[StrictInt | None, Field(ge=64, le=MAX_SIDE), WholeFloat] = Field(
        default=None, description="Pixels; multiple of 8.", json_schema_extra={"multipleOf": 8}
    )
    steps: Annotated[StrictInt | None, Field(ge=1, le=100), WholeFloat] = Field(
        default=None, description="Denoising steps."
    )
    guidance: StrictFloat | None = Field(default=None, ge=1.0, le=20.0, description="CFG scale.")
    seed: Annotated[StrictInt | None, Field(ge=0, le=MAX_SEED), WholeFloat] = Field(
        default=None, description="Unset = random; image i uses seed + i."
    )
    scheduler: SchedulerName | None = Field(default=None, description="Sampler name.")
    num_images: Annotated[StrictInt, Field(ge=1, le=MAX_IMAGES), WholeFloat] = Field(
        default=1, description="Images to make."
    )
    loras: list[LoraRequest] = Field(
        default_factory=list, max_length=MAX_LORAS, description="LoRAs to apply, in order."
    )

    @field_validator("prompt")
    @classmethod
    def _prompt_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("prompt must not be empty; describe the image to generate")
        return value

    @field_validator("width")
    @classmethod
    def _width(cls, value: int | None) -> int | None:
        return _multiple_of_8("width", value)

    @field_validator("height")
    @classmethod
    def _height(cls, value: int | None) -> int | None:
        return _multiple_of_8("height", value)
