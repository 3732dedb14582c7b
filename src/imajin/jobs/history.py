"""Retention of finished jobs: unread deliver-once values dropped, old history pruned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, select

from imajin.jobs.rows import FINISHED, PRUNE_BATCH, forget_undelivered_values
from imajin.store.database import Database
from imajin.store.tables import BatchRow, JobRow


class JobHistory:
    """The retention side of :class:`~imajin.jobs.repository.JobRepository`."""

    _database: Database

    def forget_undelivered(self, *, now: datetime, batch_size: int = PRUNE_BATCH) -> int:
        """Drop the deliver-once values nobody read by their ``deliver_until``; how many jobs."""
        forgotten = 0
        while True:
            with self._database.session() as session:
                rows = session.scalars(
                    select(JobRow).where(JobRow.deliver_until < now).limit(batch_size)
                ).all()
                for row in rows:
                    forgotten += forget_undelivered_values(session, row)
            if len(rows) < batch_size:
                return forgotten

    def prune_finished(self, *, finished_before: datetime, batch_size: int = PRUNE_BATCH) -> int:
        """Delete finished jobs that ended before ``finished_before``; returns how many.

        Queued and running jobs are never touched, nor the jobs of a studio batch that
        still exists (a batch's counts and images are read from its jobs). Deletes go
        in batches of ``batch_size`` ids, so a large backlog never holds a long lock.
        """
        kept_groups = select(BatchRow.id)
        removable = (
            select(JobRow.id)
            .where(
                JobRow.status.in_(FINISHED),
                JobRow.finished_at.is_not(None),
                JobRow.finished_at < finished_before,
                (JobRow.group_id.is_(None)) | (JobRow.group_id.not_in(kept_groups)),
            )
            .limit(batch_size)
        )
        removed = 0
        while True:
            with self._database.session() as session:
                ids = list(session.scalars(removable))
                if ids:
                    # Status again in the DELETE: a job re-queued meanwhile is not removed.
                    statement = delete(JobRow).where(
                        JobRow.id.in_(ids), JobRow.status.in_(FINISHED)
                    )
                    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
                    removed += result.rowcount
            if len(ids) < batch_size:
                return removed
