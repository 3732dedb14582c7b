"""The outbox table: write events inside a state change's transaction; read them in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from imajin.events.models import Event
from imajin.store.database import Database
from imajin.store.tables import EventRow


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


def _to_event(row: EventRow) -> Event:
    return Event(
        id=row.id,
        type=row.type,
        job_id=row.job_id,
        subject=row.subject,
        payload=row.payload,
        created_at=row.created_at,
    )
