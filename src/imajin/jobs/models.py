"""Job states and the records the rest of the system sees."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from imajin.contracts.jobs import JobError, JobProgress, JobPublic, JobStatus
from imajin.errors import ImajinError
from imajin.jobs.deliver_once import scrub
from imajin.storage.url_signing import Sign, sign_urls
from imajin.store.tables import JobRow

__all__ = [
    "Job",
    "JobError",
    "JobProgress",
    "JobPublic",
    "JobSpec",
    "JobStatus",
    "job_error_of",
    "public_job",
]


class JobSpec(BaseModel):
    """What a service submits: a kind, its parameters and where it queues."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    queue: str = Field(
        "default", min_length=1, max_length=64, description="Admission queue (bounded; full → 429)."
    )
    route: str = Field(
        "default",
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="Worker routing key, e.g. a model id for warm-model affinity.",
    )
    priority: int = Field(0, ge=-100, le=100, description="Higher runs first.")
    group_id: str | None = Field(None, max_length=64, description="A batch or variation id.")


class Job(BaseModel):
    """A job as stored, for services and the API."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    queue: str
    route: str
    priority: int
    status: JobStatus
    attempts: int
    max_attempts: int
    progress: JobProgress
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: JobError | None
    cancel_requested: bool
    worker_id: str | None
    group_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    deliver_until: datetime | None = Field(
        None, description="Set while the result holds undelivered deliver-once keys."
    )

    @classmethod
    def of(cls, row: JobRow) -> Job:
        error = None
        if row.error_code is not None:
            error = JobError(
                code=row.error_code, message=row.error_message or "", detail=row.error_detail
            )
        return cls(
            id=row.id,
            kind=row.kind,
            queue=row.queue,
            route=row.route,
            priority=row.priority,
            status=JobStatus(row.status),
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            progress=JobProgress(
                step=row.progress_step, total=row.progress_total, message=row.progress_message
            ),
            params=row.params,
            result=row.result,
            error=error,
            cancel_requested=row.cancel_requested,
            worker_id=row.worker_id,
            group_id=row.group_id,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            heartbeat_at=row.heartbeat_at,
            deliver_until=row.deliver_until,
        )

    def without_undelivered(self) -> Job:
        """This job as a listing or an operator sees it: deliver-once keys not yet delivered
        are null (only their waiter or first reader gets them, see :mod:`deliver_once`)."""
        if self.deliver_until is None:
            return self
        return self.model_copy(update={"result": scrub(self.result)})


def job_error_of(error: ImajinError) -> JobError:
    """How a job that raised ``error`` failed: its code, message and the rest of its HTTP
    body (``field``, a policy block's ``reason`` …), so the error can be rebuilt as it was."""
    body = error.to_dict()
    detail = {key: value for key, value in body.items() if key not in ("code", "message")}
    # Stored as JSON with the job's final state: a value JSON cannot hold must not keep
    # the job from finishing, so it is kept as its text.
    detail = json.loads(json.dumps(detail, default=str))
    return JobError(code=error.code, message=error.message, detail=detail or None)


def public_job(job: Job, *, sign: Sign | None = None) -> JobPublic:
    """The view of ``job`` the HTTP API shows (no route, heartbeat or attempt limit); image
    URLs in its result signed by ``sign`` (SPEC §3.2)."""
    public = JobPublic.model_validate(job.model_dump())
    if sign is not None and public.result is not None:
        public.result = sign_urls(public.result, sign)
    return public
