"""Jobs as the HTTP API shows them (``/api/jobs``): states, progress, errors, the public view."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["JobError", "JobProgress", "JobPublic", "JobStatus"]


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


# How a job failed. No docstring: it would become the schema's description.
class JobError(BaseModel):
    code: str
    message: str
    detail: dict[str, Any] | None = Field(
        None,
        description=(
            "The error's fields beyond code and message, as its HTTP error body has them "
            "(`field`, a policy block's `reason`, ...); null when it has none, and for jobs "
            "that failed before imajin stored them."
        ),
    )


class JobProgress(BaseModel):
    step: int
    total: int
    message: str


# A job as ``GET /api/jobs/{id}`` answers (the server builds it from its stored job). No
# docstring: it would become the schema's description in the OpenAPI document.
class JobPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str
    kind: str
    queue: str
    priority: int
    status: JobStatus
    attempts: int
    progress: JobProgress
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: JobError | None
    # `alias` (not only a serialization alias) so a client reads back what the server wrote.
    cancel_requested: bool = Field(alias="cancelRequested")
    worker_id: str | None = Field(alias="workerId")
    group_id: str | None = Field(alias="groupId")
    created_at: datetime = Field(alias="createdAt")
    started_at: datetime | None = Field(alias="startedAt")
    finished_at: datetime | None = Field(alias="finishedAt")
