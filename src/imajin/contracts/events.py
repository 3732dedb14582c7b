"""Events as the server-sent event streams carry them (``/api/events``, ``/api/jobs/{id}/events``).

Each SSE message is ``id: <id>``, ``event: <type>`` and ``data: <this model as JSON>``.
A test holds this shape equal to the server's stored event (:mod:`imajin.events.models`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["JOB_TERMINAL_EVENTS", "EventPublic"]

JOB_TERMINAL_EVENTS = frozenset({"JOB_SUCCEEDED", "JOB_FAILED", "JOB_CANCELLED"})
"""Event types after which a job's stream ends."""


class EventPublic(BaseModel):
    """One event; ``id`` increases monotonically, so a client resumes after the last it saw."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    id: int
    type: str
    job_id: str | None = Field(default=None, alias="jobId")
    subject: str | None = None
    payload: dict[str, Any]
    created_at: datetime = Field(alias="createdAt")
