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


PREVIEW = "PREVIEW"
"""A running job's live preview (payload: job fields, ``step``, ``total``, ``image``,
``width``, ``height`` and ``dataUrl``, a ``data:image/webp;base64,...`` URL).

Not a lifecycle event (so no ``JOB_`` prefix), and not kept: each replaces the job's
previous one in the outbox and the job's end deletes the last, so previews cost one
row per running job, never a row per step.
"""


class Event(BaseModel):
    """One stored event. ``id`` increases monotonically: consumers resume after it."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    id: int
    type: str
    job_id: str | None = Field(default=None, serialization_alias="jobId")
    subject: str | None = None
    payload: dict[str, Any]
    created_at: datetime = Field(serialization_alias="createdAt")
