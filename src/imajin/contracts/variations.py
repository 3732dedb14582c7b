"""The variations HTTP contract (SPEC §3.2): camelCase JSON, exactly as clients send it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
)
from pydantic.alias_generators import to_camel

from imajin.contracts.common import WholeFloat

__all__ = [
    "FAMILY_NAMES",
    "NAME_PATTERN",
    "RESERVED_NAMES",
    "Camel",
    "DerivativePublic",
    "DerivativeSize",
    "FamilyPublic",
    "GenerationInput",
    "GenerationParams",
    "MlHealth",
    "ModelPublic",
    "RegenerateRequest",
    "VariationCreate",
    "VariationPage",
    "VariationPublic",
    "VariationStatus",
]

# The nine size families (SPEC §3.1). imajin.imaging.sizes defines their sizes; a test
# holds the two lists equal, so the contract never needs the imaging code.
FAMILY_NAMES: tuple[str, ...] = (
    "square",
    "hero",
    "portrait",
    "og",
    "compact",
    "tall",
    "ultrawide",
    "sidebar",
    "header",
)
# The name is a folder under images/, so this is storage's segment rule
# (imajin.storage.paths) narrowed to a slug: no dots, and no leading '-' ("-rf").
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$"
# Path segments of other /api/images routes; a variation of that name could not be served.
RESERVED_NAMES = frozenset({"variations", "models", "health"})


class Camel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True
    )


class VariationStatus(StrEnum):
    QUEUED = "queued"
    GENERATING = "generating"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"


class GenerationInput(Camel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=2000)
    seed: Annotated[StrictInt | None, Field(ge=0, le=2**32 - 1), WholeFloat] = Field(
        None, description="Absent: a random seed."
    )
    model: str = Field(
        "photorealistic",
        min_length=1,
        max_length=500,
        description="`photorealistic`, `anime` or a model id.",
    )
    negative_prompt: str | None = Field(
        None, max_length=2000, description="Absent: the platform prompt for the model."
    )
    inference_steps: Annotated[StrictInt | None, Field(ge=1, le=100), WholeFloat] = None
    guidance_scale: StrictFloat | None = Field(None, ge=1, le=20)


class VariationCreate(Camel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=NAME_PATTERN, description="Slug: letters, digits, `_`, `-`; not starting with `-`."
    )
    category: str = Field("general", min_length=1, max_length=100)
    generation: GenerationInput
    families: list[str] = Field(
        default_factory=lambda: list(FAMILY_NAMES),
        min_length=1,
        # What the validator below checks, said in the schema for clients and the fuzz.
        json_schema_extra={
            "items": {"type": "string", "enum": list(FAMILY_NAMES)},
            "uniqueItems": True,
        },
    )

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name.lower() in RESERVED_NAMES:
            raise ValueError(f"{name!r} is reserved; choose another name")
        return name

    @field_validator("families")
    @classmethod
    def _known_families(cls, families: list[str]) -> list[str]:
        unknown = [name for name in families if name not in FAMILY_NAMES]
        if unknown:
            raise ValueError(f"unknown families {unknown}; known: {', '.join(FAMILY_NAMES)}")
        if len(set(families)) != len(families):
            raise ValueError("families must not repeat")
        return families


class RegenerateRequest(Camel):
    model_config = ConfigDict(extra="forbid")

    new_seed: StrictBool = Field(False, description="Pick a new random seed instead of reusing it.")


class GenerationParams(Camel):
    """What the variation is generated with, every default filled in."""

    prompt: str
    negative_prompt: str
    model: str
    seed: int
    inference_steps: int
    guidance_scale: float


class DerivativePublic(Camel):
    derivative_name: str
    family: str
    public_url: str
    width: int
    height: int
    file_size: int


class VariationPublic(Camel):
    id: str
    name: str
    category: str
    status: VariationStatus
    generation_params: GenerationParams
    families: list[str]
    derivatives: list[DerivativePublic] = Field(default_factory=list)
    error: str | None = None
    job_id: str | None = None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None


class VariationPage(Camel):
    items: list[VariationPublic]
    total: int
    limit: int
    offset: int


class DerivativeSize(Camel):
    """One derivative a family produces, at its exact size."""

    name: str
    width: int
    height: int


class FamilyPublic(Camel):
    """A size family (SPEC §3.1): what a client may ask for and what it gets back."""

    name: str
    ratio: str = Field(description="The nominal aspect ratio: `2:1`, or `~1.9:1` when approximate.")
    master_width: int = Field(description="The master every derivative is cut from.")
    master_height: int
    derivatives: list[DerivativeSize]


class ModelPublic(BaseModel):
    type: str = Field(description="The model's style: photorealistic or anime.")
    model_id: str
    name: str
    family: str = Field(description="Architecture (`sd15`, `sdxl`, `sd3`, ...).")
    native: int = Field(description="Native side in pixels.")
    status: str = Field(description="`default`, `available` or another manifest status.")
    device: str
    loaded: bool
    downloaded: bool = Field(description="Its weights are on disk (else `imajin models pull`).")
    scheduler: str = Field(description="Its default sampler.")
    samplers: list[str] = Field(description="Every sampler a request for it may name.")


class MlHealth(BaseModel):
    status: str
    models: list[ModelPublic]
