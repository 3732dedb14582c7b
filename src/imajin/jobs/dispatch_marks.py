"""Which queued jobs have been handed to the broker (Celery): the pump's bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update

from imajin.jobs.models import Job
from imajin.jobs.rows import QUEUED, changed
from imajin.store.database import Database
from imajin.store.tables import JobRow, utcnow


class DispatchMarks:
    """The dispatch side of :class:`~imajin.jobs.repository.JobRepository`."""

    _database: Database

    def claim_dispatch(self, job_id: str) -> bool:
        """Take the right to send ``job_id`` to the broker; False if another sender has it."""
        with self._database.session() as session:
            return (
                changed(
                    session,
                    update(JobRow)
                    .where(
                        JobRow.id == job_id,
                        JobRow.status == QUEUED,
                        JobRow.dispatched_at.is_(None),
                    )
                    .values(dispatched_at=utcnow()),
                )
                == 1
            )

    def release_dispatch(self, job_id: str) -> None:
        """The send failed: let the pump try again."""
        with self._database.session() as session:
            session.execute(update(JobRow).where(JobRow.id == job_id).values(dispatched_at=None))

    def undispatched(
        self,
        *,
        limit: int = 100,
        held_kinds: Sequence[str] = (),
        requeued_before: datetime | None = None,
    ) -> list[Job]:
        """Queued jobs not handed to the broker (it was down, or they were re-queued).

        Jobs of ``held_kinds`` re-queued after ``requeued_before`` are left out: their first
        message (with its payload) is still the broker's to re-deliver.
        """
        query = select(JobRow).where(JobRow.status == QUEUED, JobRow.dispatched_at.is_(None))
        if held_kinds and requeued_before is not None:
            # A queued job that has started was re-queued, and its updated_at says when.
            query = query.where(
                or_(
                    JobRow.kind.not_in(held_kinds),
                    JobRow.started_at.is_(None),
                    JobRow.updated_at <= requeued_before,
                )
            )
        with self._database.session() as session:
            rows = session.scalars(
                query.order_by(JobRow.priority.desc(), JobRow.created_at).limit(limit)
            ).all()
            return [Job.of(row) for row in rows]
