"""Jobs: the queue and recent history, one job, cancel, and a job's live event stream."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from imajin.api.auth import GenerateAccess, ReadAccess
from imajin.api.deps import EventsDep, JobsDep, Offset
from imajin.api.openapi import error_responses
from imajin.events.models import Event, JobEvent
from imajin.events.sse import stream_events
from imajin.jobs.models import Job, JobError, JobProgress, JobStatus

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


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
    cancel_requested: bool = Field(serialization_alias="cancelRequested")
    worker_id: str | None = Field(serialization_alias="workerId")
    group_id: str | None = Field(serialization_alias="groupId")
    created_at: datetime = Field(serialization_alias="createdAt")
    started_at: datetime | None = Field(serialization_alias="startedAt")
    finished_at: datetime | None = Field(serialization_alias="finishedAt")

    @classmethod
    def of(cls, job: Job) -> JobPublic:
        return cls.model_validate(job.model_dump())


@router.get(
    "",
    response_model=Page[JobPublic],
    dependencies=[ReadAccess],
    summary="Current queue and recent history",
)
def list_jobs(
    *,
    jobs: JobsDep,
    status: JobStatus | None = None,
    kind: str | None = None,
    group_id: Annotated[str | None, Query(alias="groupId")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> Page[JobPublic]:
    found, total = jobs.page(
        status=status, kind=kind, group_id=group_id, limit=limit, offset=offset
    )
    return Page(items=[JobPublic.of(job) for job in found], total=total, limit=limit, offset=offset)


@router.get(
    "/{job_id}", response_model=JobPublic, dependencies=[ReadAccess], responses=error_responses(404)
)
def get_job(job_id: str, jobs: JobsDep) -> JobPublic:
    return JobPublic.of(jobs.get(job_id))


@router.delete(
    "/{job_id}",
    response_model=JobPublic,
    dependencies=[GenerateAccess],
    responses=error_responses(404, 409),  # 409: the job already finished
    summary="Cancel a job (queued: at once; running: between steps)",
)
def cancel_job(job_id: str, jobs: JobsDep) -> JobPublic:
    return JobPublic.of(jobs.cancel(job_id))


@router.get(
    "/{job_id}/events",
    dependencies=[ReadAccess],
    response_class=StreamingResponse,
    responses=error_responses(404),
    summary="Server-sent events: the job's progress and state, resumable",
)
def job_events(
    job_id: str,
    *,
    jobs: JobsDep,
    events: EventsDep,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    job = jobs.get(job_id)  # 404 before the stream starts
    after = last_event_id or 0
    if job.status.finished and last_event_id is None:
        after = 0  # a finished job replays its whole history, then the stream ends

    def terminal(event: Event) -> bool:
        return event.type in JobEvent.TERMINAL

    stream = stream_events(events, after=after, job_id=job_id, until=terminal)
    return StreamingResponse(stream, media_type="text/event-stream", headers=_SSE_HEADERS)


_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
