"""Jobs: the queue and recent history, one job, cancel, and a job's live event stream."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from imajin.api.auth import GenerateAccess, ReadAccess
from imajin.api.deps import EventsDep, JobsDep, Offset, SignDep
from imajin.api.openapi import error_responses
from imajin.contracts.common import Page
from imajin.contracts.jobs import JobPublic, JobStatus
from imajin.events.models import Event, JobEvent
from imajin.events.sse import stream_events
from imajin.jobs.models import public_job

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get(
    "",
    response_model=Page[JobPublic],
    dependencies=[ReadAccess],
    summary="Current queue and recent history",
)
def list_jobs(
    *,
    jobs: JobsDep,
    sign: SignDep,
    status: JobStatus | None = None,
    kind: str | None = None,
    group_id: Annotated[str | None, Query(alias="groupId")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> Page[JobPublic]:
    found, total = jobs.page(
        status=status, kind=kind, group_id=group_id, limit=limit, offset=offset
    )
    # A listing is nobody's delivery: deliver-once keys stay for the job's own reader.
    items = [public_job(job.without_undelivered(), sign=sign) for job in found]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/{job_id}", response_model=JobPublic, dependencies=[ReadAccess], responses=error_responses(404)
)
def get_job(job_id: str, jobs: JobsDep, sign: SignDep) -> JobPublic:
    """One job. With `gateway.profile.store_feature_text` off, a profile job's `features`
    and `prompt_used` come to the first read after it ended (within
    `gateway.profile.unread_features_ttl_s`); later reads get null."""
    return public_job(jobs.deliver(job_id), sign=sign)


@router.delete(
    "/{job_id}",
    response_model=JobPublic,
    dependencies=[GenerateAccess],
    responses=error_responses(404, 409),  # 409: the job already finished
    summary="Cancel a job (queued: at once; running: between steps)",
)
def cancel_job(job_id: str, jobs: JobsDep, sign: SignDep) -> JobPublic:
    return public_job(jobs.cancel(job_id).without_undelivered(), sign=sign)


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
