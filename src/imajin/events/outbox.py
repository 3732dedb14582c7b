"""The outbox table: write events inside a state change's transaction; read them in order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from imajin.events.models import Event
from imajin.store.database import Database
from imajin.store.tables import EventRow, JobRow

# Job states whose events are kept whatever their age (the job system's "queued"/"running";
# spelled out here because the job package imports this module).
ACTIVE = ("queued", "running")
PRUNE_BATCH = 1000  # rows per delete when pruning


def record_event(
    session: Session,
    event_type: str,
    payload: dict[str, Any],
    *,
    job_id: str | None = None,
    subject: str | None = None,
) -> None:
    """Add an event to ``session``'s transaction; it exists only if that commits."""
    session.add(EventRow(type=event_type, payload=payload, job_id=job_id, subject=subject))


class EventStore:
    """Reads the outbox. Everything that streams or replays events goes through here."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def after(
        self,
        last_id: int,
        *,
        types: Sequence[str] = (),
        job_id: str | None = None,
        subject: str | None = None,
        limit: int = 500,
    ) -> list[Event]:
        """Events with id > ``last_id``, oldest first, optionally filtered."""
        query = select(EventRow).where(EventRow.id > last_id)
        if types:
            query = query.where(EventRow.type.in_(types))
        if job_id is not None:
            query = query.where(EventRow.job_id == job_id)
        if subject is not None:
            query = query.where(EventRow.subject == subject)
        with self._database.session() as session:
            rows = session.scalars(query.order_by(EventRow.id).limit(limit)).all()
        return [_to_event(row) for row in rows]

    def last_id(self) -> int:
        with self._database.session() as session:
            return int(session.scalar(select(func.max(EventRow.id))) or 0)

    def prune(
        self, *, before: datetime, relayed_through: int, batch_size: int = PRUNE_BATCH
    ) -> int:
        """Delete events written before ``before``; returns how many.

        Never an event the relay has not delivered yet (id above ``relayed_through``),
        nor any event of a job that is still queued or running: a client following
        that job replays its whole history.
        """
        active = select(JobRow.id).where(JobRow.status.in_(ACTIVE))
        removable = (
            select(EventRow.id)
            .where(
                EventRow.created_at < before,
                EventRow.id <= relayed_through,
                EventRow.job_id.is_(None) | EventRow.job_id.not_in(active),
            )
            .order_by(EventRow.id)
            .limit(batch_size)
        )
        removed = 0
        while True:
            with self._database.session() as session:
                ids = list(session.scalars(removable))
                if ids:
                    # The job test again in the DELETE: one re-queued meanwhile keeps its events.
                    statement = delete(EventRow).where(
                        EventRow.id.in_(ids),
                        EventRow.job_id.is_(None) | EventRow.job_id.not_in(active),
                    )
                    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
                    removed += result.rowcount
            if len(ids) < batch_size:
                return removed


def _to_event(row: EventRow) -> Event:
    return Event(
        id=row.id,
        type=row.type,
        job_id=row.job_id,
        subject=row.subject,
        payload=row.payload,
        created_at=row.created_at,
    )
