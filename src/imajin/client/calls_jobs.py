"""The job endpoints: the queue and history, one job, cancel, and event streams."""

from __future__ import annotations

from collections.abc import Sequence

from imajin.client.call import Call, Query, Stream, json_as, segment
from imajin.contracts.common import Page
from imajin.contracts.jobs import JobPublic, JobStatus

__all__ = ["cancel_job", "events", "get_job", "job_events", "list_jobs"]


def list_jobs(
    *,
    status: JobStatus | str | None = None,
    kind: str | None = None,
    group_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Call[Page[JobPublic]]:
    """``GET /api/jobs``: newest first; ``group_id`` is a batch's or a variation's id."""
    params: Query = {"limit": limit, "offset": offset}
    if status is not None:
        params["status"] = JobStatus(status).value
    if kind is not None:
        params["kind"] = kind
    if group_id is not None:
        params["groupId"] = group_id
    return Call("GET", "/api/jobs", json_as(Page[JobPublic]), params=params)


def get_job(job_id: str) -> Call[JobPublic]:
    """``GET /api/jobs/{id}``."""
    return Call("GET", f"/api/jobs/{segment(job_id)}", json_as(JobPublic))


def cancel_job(job_id: str) -> Call[JobPublic]:
    """``DELETE /api/jobs/{id}``: cancel (queued: at once; running: between steps)."""
    return Call("DELETE", f"/api/jobs/{segment(job_id)}", json_as(JobPublic))


def job_events(job_id: str, *, last_event_id: int | None = None) -> Stream:
    """``GET /api/jobs/{id}/events``: the job's events; the stream ends after its last.

    Args:
        job_id: The job.
        last_event_id: Resume after this event; None: a finished job replays its history,
            a running one streams from now on.
    """
    return Stream(f"/api/jobs/{segment(job_id)}/events", last_event_id=last_event_id)


def events(
    *,
    types: Sequence[str] = (),
    subject: str | None = None,
    after: int | None = None,
    last_event_id: int | None = None,
) -> Stream:
    """``GET /api/events``: every event (of ``types``, about ``subject``); it does not end.

    Args:
        types: Only these event types (``JOB_SUCCEEDED``, ...); empty: all.
        subject: Only events about this subject (a batch or variation id).
        after: Start after this event id; None: from now on.
        last_event_id: Resume after this event (wins over ``after``).
    """
    params: Query = {}
    if types:
        params["type"] = list(types)
    if subject is not None:
        params["subject"] = subject
    if after is not None:
        params["after"] = after
    return Stream("/api/events", params=params, last_event_id=last_event_id)
