"""Domain event types and the event record every consumer sees."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobEvent:
    """Job lifecycle event types (payloads carry ``jobId``, ``kind``, ``queue``, ``status``)."""

    QUEUED = "JOB_QUEUED"
    STARTED = "JOB_STARTED"
    PROGRESS = "JOB_PROGRESS"
    SUCCEEDED = "JOB_SUCCEEDED"
    FAILED = "JOB_FAILED"
    CANCELLED = "JOB_CANCELLED"
    REQUEUED = "JOB_REQUEUED"

    TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})


class Event(BaseModel):
    """One stored event. ``id`` increases monotonically: consumers resume after it."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    id: int
    type: str
    job_id: str | None = Field(default=None, serialization_alias="jobId")
    subject: str | None = None
    payload: dict[str, Any]
    created_at: datetime = Field(serialization_alias="createdAt")
