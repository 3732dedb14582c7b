"""The batch-studio HTTP contract (SPEC §5): snake_case JSON, as the studio's clients send it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from imajin.contracts.common import WholeFloat
from imajin.contracts.generation import MAX_SEED, GenerationRequest, SchedulerName
from imajin.contracts.jobs import JobStatus

__all__ = [
    "BatchCreate",
    "BatchCreated",
    "BatchDetail",
    "BatchItem",
    "BatchPage",
    "BatchStatus",
    "BatchSummary",
    "GenerateAccepted",
    "GenerateRequest",
    "ImageFormat",
    "LoraPublic",
    "Progress",
    "SetInfo",
    "SetItemPublic",
    "SetSummary",
    "Strict",
    "StudioConfigPublic",
    "StudioConfigUpdate",
    "Theme",
]

ImageFormat = Literal["png", "webp"]
"""File format of the studio's generated images."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SetSummary(BaseModel):
    name: str
    description: str
    item_count: int
    width: int
    height: int
    example_theme: str


class LoraPublic(BaseModel):
    path: str
    weight: float


class SetItemPublic(BaseModel):
    index: int
    item: str
    values: dict[str, str]
    prompt: str = Field(description="The full prompt of this row with the given theme.")


class SetInfo(SetSummary):
    base_prompt: str
    prompt_template: str
    style_suffix: str
    negative_prompt: str | None
    loras: list[LoraPublic]
    columns: list[str]
    items: list[SetItemPublic]


class BatchCreate(Strict):
    set_name: str = Field(min_length=1, max_length=64)
    user_theme: str = Field("", max_length=2000, description="Goes after the set's base prompt.")
    seed: Annotated[StrictInt | None, Field(ge=0, le=MAX_SEED), WholeFloat] = Field(
        None, description="Row i uses seed + i; absent: a random seed."
    )
    priority: Annotated[StrictInt, Field(ge=-100, le=100), WholeFloat] = Field(
        0, description="Higher runs first."
    )


class BatchCreated(BaseModel):
    batch_id: str
    set_name: str
    user_theme: str
    total: int
    job_ids: list[str]
    output_dir: str


class GenerateRequest(GenerationRequest):
    """``POST /api/generate``: the engine's request. Fields left out take the studio
    defaults (``GET /api/config``), then the model's."""


class GenerateAccepted(BaseModel):
    job_id: str
    status: JobStatus


class BatchStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


class BatchSummary(BaseModel):
    batch_id: str
    set_name: str
    user_theme: str
    status: BatchStatus
    total: int
    succeeded: int
    failed: int
    cancelled: int
    created_at: datetime
    output_dir: str
    thumbnail_url: str | None = Field(description="A small WebP of the batch's first image.")


class Progress(BaseModel):
    step: int
    total: int


class BatchItem(BaseModel):
    job_id: str
    index: int
    item: str
    status: JobStatus
    progress: Progress
    image_url: str | None
    sidecar_url: str | None
    thumbnail_url: str | None
    error: str | None


class BatchDetail(BatchSummary):
    items: list[BatchItem]


class BatchPage(BaseModel):
    items: list[BatchSummary]
    total: int
    limit: int
    offset: int


class Theme(BaseModel):
    theme: str


class StudioConfigPublic(BaseModel):
    """``GET /api/config``: the studio defaults in force."""

    model: str
    steps: int | None
    guidance: float | None
    scheduler: str | None
    image_format: ImageFormat
    webp_quality: int


def _not_null(schema: dict[str, Any]) -> None:
    """Drop ``null`` from an optional field's schema: the field may be left out, not null."""
    options = schema.pop("anyOf", None) or []
    kept = [option for option in options if option.get("type") != "null"]
    if len(kept) == 1:
        schema.update(kept[0])
    elif kept:
        schema["anyOf"] = kept


class StudioConfigUpdate(Strict):
    """``PUT /api/config``: any subset of the fields; the result is checked as a whole."""

    # None here only means "left out": these three have no null setting (steps, guidance
    # and scheduler do: the model's default), so the schema does not offer null for them.
    model: str | None = Field(None, min_length=1, max_length=500, json_schema_extra=_not_null)
    steps: Annotated[StrictInt | None, Field(ge=1, le=100), WholeFloat] = None
    guidance: StrictFloat | None = Field(None, ge=1.0, le=20.0)
    scheduler: SchedulerName | None = None
    image_format: ImageFormat | None = Field(None, json_schema_extra=_not_null)
    webp_quality: Annotated[StrictInt | None, Field(ge=1, le=100), WholeFloat] = Field(
        None, json_schema_extra=_not_null
    )
