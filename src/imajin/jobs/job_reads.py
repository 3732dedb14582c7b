"""Reading jobs: one by id (and its deliver-once delivery), pages, counts, groups."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from imajin.jobs.errors import JobNotFound
from imajin.jobs.models import Job, JobStatus
from imajin.jobs.rows import QUEUED, RUNNING, forget_undelivered_values
from imajin.store.database import Database
from imajin.store.tables import JobRow, utcnow


class JobReads:
    """The read side of :class:`~imajin.jobs.repository.JobRepository`."""

    _database: Database

    def active_count(self, session: Session, queue: str) -> int:
        """Queued plus running jobs in ``queue``."""
        query = (
            select(func.count())
            .select_from(JobRow)
            .where(JobRow.queue == queue, JobRow.status.in_((QUEUED, RUNNING)))
        )
        return int(session.scalar(query) or 0)

    def recent_durations(self, queue: str, *, limit: int = 20) -> list[float]:
        """Run times in seconds of the latest succeeded jobs of ``queue``."""
        query = (
            select(JobRow.started_at, JobRow.finished_at)
            .where(JobRow.queue == queue, JobRow.status == JobStatus.SUCCEEDED.value)
            .order_by(JobRow.finished_at.desc())
            .limit(limit)
        )
        with self._database.session() as session:
            rows = session.execute(query).all()
        return [(end - start).total_seconds() for start, end in rows if start and end]

    def get(self, job_id: str) -> Job:
        with self._database.session() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(f"No job with id {job_id!r}.", field="id")
            return Job.of(row)

    def deliver(self, job_id: str, *, now: datetime | None = None) -> Job:
        """The job for the reader it is meant for (its waiter, or whoever polls it by id).

        The first read of a succeeded job whose result has deliver-once keys, before its
        ``deliver_until``, gets them and drops them from the row; a later read, or one past
        the deadline, gets them null (:mod:`imajin.jobs.deliver_once`). Two readers at
        the same moment may both get them: delivery is at least once.
        """
        with self._database.session() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(f"No job with id {job_id!r}.", field="id")
            job = Job.of(row)
            if row.deliver_until is None:
                return job
            if (now or utcnow()) >= row.deliver_until:
                job = job.without_undelivered()
            forget_undelivered_values(session, row)
            return job.model_copy(update={"deliver_until": None})

    def page(
        self,
        *,
        status: JobStatus | None = None,
        kind: str | None = None,
        group_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Job], int]:
        """A page of jobs, newest first, and the total matching."""
        query = select(JobRow)
        if status is not None:
            query = query.where(JobRow.status == status.value)
        if kind is not None:
            query = query.where(JobRow.kind == kind)
        if group_id is not None:
            query = query.where(JobRow.group_id == group_id)
        with self._database.session() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(JobRow.created_at.desc(), JobRow.id).limit(limit).offset(offset)
            ).all()
            return [Job.of(row) for row in rows], int(total)

    def status_counts(self, group_ids: Sequence[str]) -> dict[str, Counter[str]]:
        """Group id → how many of its jobs are in each status (one grouped query).

        Every id asked for is a key, with an empty counter if it has no jobs.
        """
        counts: dict[str, Counter[str]] = {group_id: Counter() for group_id in group_ids}
        if not group_ids:
            return counts
        query = (
            select(JobRow.group_id, JobRow.status, func.count())
            .where(JobRow.group_id.in_(group_ids))
            .group_by(JobRow.group_id, JobRow.status)
        )
        with self._database.session() as session:
            for group_id, status, count in session.execute(query):
                counts[str(group_id)][str(status)] = int(count)
        return counts

    def in_groups(self, group_ids: Sequence[str], *, status: JobStatus | None = None) -> list[Job]:
        """Every job of the groups (of ``status``, if given), oldest first."""
        if not group_ids:
            return []
        query = select(JobRow).where(JobRow.group_id.in_(group_ids))
        if status is not None:
            query = query.where(JobRow.status == status.value)
        with self._database.session() as session:
            rows = session.scalars(query.order_by(JobRow.created_at, JobRow.id)).all()
            return [Job.of(row) for row in rows]

    @staticmethod
    def unfinished_in_group(session: Session, group_id: str, *, excluding: str) -> int:
        """How many jobs of the group other than ``excluding`` are queued or running, read in
        ``session`` (a settle hook's: the transaction that ends ``excluding``)."""
        query = select(func.count()).where(
            JobRow.group_id == group_id,
            JobRow.id != excluding,
            JobRow.status.in_((QUEUED, RUNNING)),
        )
        return int(session.execute(query).scalar_one())
