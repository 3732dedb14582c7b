"""What the job repository's parts share: status values, event payloads, row updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import CursorResult, Update, delete, null, update
from sqlalchemy.orm import Session

from imajin.events.models import PREVIEW
from imajin.jobs.deliver_once import scrub
from imajin.jobs.models import Job, JobError, JobStatus
from imajin.store.tables import EventRow, JobRow

RUNNING = JobStatus.RUNNING.value
QUEUED = JobStatus.QUEUED.value
FINISHED = tuple(status.value for status in JobStatus if status.finished)
PRUNE_BATCH = 1000  # rows per delete when pruning history

Settle = Callable[[Session, Job], None]
"""(session of the final transition, the job as it ended) → settle what depends on it."""


def changed(session: Session, statement: Update) -> int:
    """Rows an UPDATE changed: 1 means our compare-and-set won."""
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount


def drop_previews(session: Session, job_id: str) -> None:
    session.execute(delete(EventRow).where(EventRow.job_id == job_id, EventRow.type == PREVIEW))


def forget_undelivered_values(session: Session, row: JobRow) -> int:
    """Drop the values of ``row``'s deliver-once keys; 1 if this call did it."""
    return changed(
        session,
        update(JobRow)
        .where(JobRow.id == row.id, JobRow.deliver_until.is_not(None))
        .values(result=scrub(row.result), deliver_until=None),
    )


def event_payload(row: JobRow, **extra: Any) -> dict[str, Any]:
    return {
        "jobId": row.id,
        "kind": row.kind,
        "queue": row.queue,
        "status": row.status,
        "groupId": row.group_id,
        "attempt": row.attempts,
        **extra,
    }


def error_columns(error: JobError) -> dict[str, Any]:
    # SQL NULL for no detail (a JSON column would store None as JSON ``null``), as on the
    # rows written before the column existed.
    detail = error.detail if error.detail is not None else null()
    return {"error_code": error.code, "error_message": error.message, "error_detail": detail}
