"""Every job state change, each one transaction with its outbox event.

Transitions are compare-and-set (``UPDATE ... WHERE status = <expected>``) so two
workers, or a worker and the reaper, can never both move the same job: a job
finishes once, with one result and one terminal event.

Every way a job ends without success (its handler failed or was cancelled, a
queued job was cancelled, the reaper gave up on a lost worker) runs the
``settle`` hook in the transaction that writes the final state, so rows that
depend on the job (a variation, a studio output folder) never outlive it in a
state that says it is still running.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from imajin.events.models import PREVIEW, JobEvent
from imajin.events.outbox import record_event
from imajin.jobs.deliver_once import DeliverOnce, mark
from imajin.jobs.dispatch_marks import DispatchMarks
from imajin.jobs.errors import JobFinished, JobNotFound
from imajin.jobs.history import JobHistory
from imajin.jobs.job_reads import JobReads
from imajin.jobs.models import Job, JobError, JobSpec, JobStatus
from imajin.jobs.rows import (
    QUEUED,
    RUNNING,
    Settle,
    changed,
    drop_previews,
    error_columns,
    event_payload,
)
from imajin.store.database import Database
from imajin.store.tables import JobRow, utcnow

logger = logging.getLogger(__name__)


class JobRepository(JobReads, DispatchMarks, JobHistory):
    """Job rows and their events in the SQL store: every state change here; reading,
    dispatch marks and retention in the mixins (one module each)."""

    def __init__(self, database: Database, *, settle: Settle | None = None) -> None:
        """
        Args:
            settle: Run with every job that ends failed or cancelled, inside the
                transaction of its final state (the handler registry's hooks).
        """
        self._database = database
        self._settle = settle

    def _settled(self, session: Session, row: JobRow) -> Job:
        job = Job.of(row)
        if self._settle is None or job.status == JobStatus.SUCCEEDED:
            return job
        try:
            # A savepoint: a hook that fails must not keep the job "running" forever
            # (the reaper would retry the same failing transition on every sweep).
            with session.begin_nested():
                self._settle(session, job)
        except Exception:
            logger.exception(
                "settling job %s (%s) failed; its dependents stay as they are", job.id, job.kind
            )
        return job

    # -- admission ---------------------------------------------------------------------------

    def insert(self, session: Session, specs: Sequence[JobSpec], *, max_attempts: int) -> list[Job]:
        """Add jobs and their QUEUED events to ``session``'s transaction."""
        rows = []
        now = utcnow()
        for spec in specs:
            row = JobRow(
                id=uuid.uuid4().hex,
                kind=spec.kind,
                queue=spec.queue,
                route=spec.route,
                priority=spec.priority,
                status=QUEUED,
                attempts=0,
                max_attempts=max_attempts,
                progress_step=0,
                progress_total=0,
                progress_message="",
                params=spec.params,
                cancel_requested=False,
                group_id=spec.group_id,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            record_event(
                session,
                JobEvent.QUEUED,
                event_payload(row, priority=row.priority, queuedAt=now.isoformat()),
                job_id=row.id,
                subject=row.group_id,
            )
            rows.append(row)
        session.flush()
        return [Job.of(row) for row in rows]

    @staticmethod
    def forget_params(session: Session, job_id: str, keys: Sequence[str]) -> None:
        """Drop ``keys`` from the job's params, in ``session`` (a kind's final write or settle
        hook: the transaction that ends the job, when nothing will run it again)."""
        params = session.scalar(select(JobRow.params).where(JobRow.id == job_id))
        if params and any(key in params for key in keys):
            kept = {key: value for key, value in params.items() if key not in keys}
            session.execute(update(JobRow).where(JobRow.id == job_id).values(params=kept))

    # -- claiming and running ----------------------------------------------------------------

    def claim_next(self, worker_id: str, *, queues: Sequence[str] = ()) -> Job | None:
        """Move the highest-priority, oldest queued job to running for ``worker_id``."""
        with self._database.session() as session:
            query = select(JobRow.id).where(JobRow.status == QUEUED)
            if queues:
                query = query.where(JobRow.queue.in_(queues))
            query = query.order_by(JobRow.priority.desc(), JobRow.created_at, JobRow.id).limit(8)
            if self._database.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for job_id in session.scalars(query).all():
                job = self._start(session, job_id, worker_id)
                if job is not None:
                    return job
        return None

    def claim_companions(
        self,
        first: Job,
        worker_id: str,
        *,
        kinds: Sequence[str],
        fits: Callable[[Job], bool],
        limit: int,
        queues: Sequence[str] = (),
        scan: int = 64,
    ) -> list[Job]:
        """Start up to ``limit`` more queued jobs to run with ``first``, in one transaction.

        Candidates share ``first``'s route (one model, one worker), are of one of ``kinds``
        (and ``queues``, if given) and pass ``fits`` (an equal shape key); they are taken
        highest priority and oldest first, among the ``scan`` next ones. Each is moved with
        the same compare-and-set as a claim, so no job is ever taken twice.
        """
        if limit <= 0 or not kinds:
            return []
        with self._database.session() as session:
            query = select(JobRow).where(
                JobRow.status == QUEUED,
                JobRow.route == first.route,
                JobRow.kind.in_(kinds),
                JobRow.id != first.id,
            )
            if queues:
                query = query.where(JobRow.queue.in_(queues))
            query = query.order_by(JobRow.priority.desc(), JobRow.created_at, JobRow.id).limit(scan)
            if self._database.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            claimed: list[Job] = []
            for row in session.scalars(query).all():
                if not fits(Job.of(row)):
                    continue
                job = self._start(session, row.id, worker_id)
                if job is not None:
                    claimed.append(job)
                    if len(claimed) == limit:
                        break
            return claimed

    def held(self, job_ids: Sequence[str], worker_id: str) -> dict[str, bool]:
        """Of ``job_ids``, those still running for ``worker_id``, each mapped to whether a
        cancel was asked for (a worker's check of the batch it gathered, before it runs)."""
        if not job_ids:
            return {}
        query = select(JobRow.id, JobRow.cancel_requested).where(
            JobRow.id.in_(job_ids), JobRow.worker_id == worker_id, JobRow.status == RUNNING
        )
        with self._database.session() as session:
            return {str(job_id): bool(cancel) for job_id, cancel in session.execute(query)}

    def claim(self, job_id: str, worker_id: str) -> Job | None:
        """Start a specific queued job (a Celery message names it); None if not queued."""
        with self._database.session() as session:
            return self._start(session, job_id, worker_id)

    def _start(self, session: Session, job_id: str, worker_id: str) -> Job | None:
        now = utcnow()
        moved = changed(
            session,
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == QUEUED)
            .values(
                status=RUNNING,
                worker_id=worker_id,
                started_at=now,
                heartbeat_at=now,
                updated_at=now,
                finished_at=None,
            ),
        )
        if moved != 1:
            return None
        row = session.get(JobRow, job_id, populate_existing=True)
        if row is None:  # the update above just matched it, in this transaction
            return None
        record_event(
            session,
            JobEvent.STARTED,
            # The attempt this claim is about to make (counted when its handler starts).
            event_payload(
                row, workerId=worker_id, startedAt=now.isoformat(), attempt=row.attempts + 1
            ),
            job_id=row.id,
            subject=row.group_id,
        )
        return Job.of(row)

    def begin_attempt(self, job_id: str, worker_id: str) -> Job | None:
        """Count an attempt: the handler of a job ``worker_id`` holds starts now.

        Counted here rather than at claim, so a job released before its handler ran
        (a worker killed between claim and start) keeps its attempts. None when the
        job is no longer this worker's.
        """
        with self._database.session() as session:
            moved = changed(
                session,
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.worker_id == worker_id, JobRow.status == RUNNING)
                .values(attempts=JobRow.attempts + 1, updated_at=utcnow()),
            )
            if moved != 1:
                return None
            row = session.get(JobRow, job_id, populate_existing=True)
            return None if row is None else Job.of(row)

    def heartbeat(self, job_ids: Sequence[str], worker_id: str) -> None:
        if not job_ids:
            return
        with self._database.session() as session:
            changed(
                session,
                update(JobRow)
                .where(
                    JobRow.id.in_(job_ids),
                    JobRow.worker_id == worker_id,
                    JobRow.status == RUNNING,
                )
                .values(heartbeat_at=utcnow()),
            )

    def report_progress(
        self,
        job_id: str,
        worker_id: str,
        *,
        step: int,
        total: int,
        message: str = "",
        extra: dict[str, Any] | None = None,
    ) -> bool:
        """Store progress (and a PROGRESS event); returns whether cancel was requested."""
        with self._database.session() as session:
            now = utcnow()
            session.execute(
                update(JobRow)
                .where(
                    JobRow.id == job_id,
                    JobRow.worker_id == worker_id,
                    JobRow.status == RUNNING,
                )
                .values(
                    progress_step=step,
                    progress_total=total,
                    progress_message=message[:500],
                    heartbeat_at=now,
                    updated_at=now,
                )
            )
            row = session.get(JobRow, job_id, populate_existing=True)
            if row is None or row.status != RUNNING or row.worker_id != worker_id:
                return True  # no longer ours: stop working on it
            record_event(
                session,
                JobEvent.PROGRESS,
                event_payload(row, step=step, total=total, message=message, **(extra or {})),
                job_id=job_id,
                subject=row.group_id,
            )
            return row.cancel_requested

    def report_preview(self, job_id: str, worker_id: str, fields: dict[str, Any]) -> None:
        """Store a live preview event in place of the job's previous one (if still ours)."""
        with self._database.session() as session:
            row = session.get(JobRow, job_id)
            if row is None or row.status != RUNNING or row.worker_id != worker_id:
                return
            drop_previews(session, job_id)
            record_event(
                session, PREVIEW, event_payload(row, **fields), job_id=job_id, subject=row.group_id
            )

    def finish(
        self,
        job_id: str,
        worker_id: str,
        *,
        status: JobStatus,
        result: dict[str, Any] | None = None,
        error: JobError | None = None,
        in_transaction: Callable[[Session], None] | None = None,
        deliver_once: DeliverOnce | None = None,
    ) -> bool:
        """Move a running job of ``worker_id`` to a final state; False if it was not ours.

        ``in_transaction`` lets a handler's own final writes (rows, events) commit
        atomically with the job's final state; a failed or cancelled job is then
        settled by its kind's hook, in the same transaction. ``deliver_once``: keys of a
        succeeded job's result kept only until :meth:`deliver` or its ``ttl_s``.
        """
        event_type = {
            JobStatus.SUCCEEDED: JobEvent.SUCCEEDED,
            JobStatus.FAILED: JobEvent.FAILED,
            JobStatus.CANCELLED: JobEvent.CANCELLED,
        }[status]
        with self._database.session() as session:
            now = utcnow()
            values: dict[str, Any] = {
                "status": status.value,
                "finished_at": now,
                "updated_at": now,
                "result": result,
            }
            if error is not None:
                values.update(error_columns(error))
            if deliver_once is not None and result is not None and status == JobStatus.SUCCEEDED:
                values["result"] = mark(result, deliver_once)
                values["deliver_until"] = now + timedelta(seconds=deliver_once.ttl_s)
            moved = changed(
                session,
                update(JobRow)
                .where(
                    JobRow.id == job_id,
                    JobRow.worker_id == worker_id,
                    JobRow.status == RUNNING,
                )
                .values(**values),
            )
            if moved != 1:
                return False
            row = session.get(JobRow, job_id, populate_existing=True)
            if row is None:  # the update above just matched it, in this transaction
                return False
            duration = (now - row.started_at).total_seconds() if row.started_at else None
            extra: dict[str, Any] = {"finishedAt": now.isoformat(), "durationS": duration}
            if error is not None:
                extra["error"] = error.model_dump(mode="json")
            record_event(
                session,
                event_type,
                event_payload(row, **extra),
                job_id=job_id,
                subject=row.group_id,
            )
            drop_previews(session, job_id)  # the result replaces them
            if in_transaction is not None:
                in_transaction(session)
            self._settled(session, row)
            return True

    # -- cancelling and recovering -----------------------------------------------------------

    def request_cancel(self, job_id: str) -> Job:
        """Cancel a queued job now, or ask a running one to stop between steps.

        Raises:
            NotFound: no such job.
            Conflict: the job already finished (the message says how).
        """
        with self._database.session() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(f"No job with id {job_id!r}.", field="id")
            now = utcnow()
            if row.status == QUEUED:
                changed(
                    session,
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.status == QUEUED)
                    .values(
                        status=JobStatus.CANCELLED.value,
                        finished_at=now,
                        updated_at=now,
                        cancel_requested=True,
                    ),
                )
                session.refresh(row)
                if row.status == JobStatus.CANCELLED.value:
                    record_event(
                        session,
                        JobEvent.CANCELLED,
                        event_payload(row, finishedAt=now.isoformat()),
                        job_id=job_id,
                        subject=row.group_id,
                    )
                    return self._settled(session, row)
            if row.status == RUNNING:
                row.cancel_requested = True
                row.updated_at = now
                return Job.of(row)
            raise JobFinished(
                f"Job {job_id} already {row.status}; only queued or running jobs can be cancelled.",
                field="status",
            )

    def recover(self, *, stale_before: datetime, dead: Callable[[str], bool]) -> list[Job]:
        """Re-queue (or fail, past ``max_attempts``) running jobs whose worker is gone.

        A worker is gone when its last heartbeat is older than ``stale_before`` or
        ``dead(worker_id)`` says so (a local process that no longer exists).
        """
        recovered = []
        with self._database.session() as session:
            rows = session.scalars(select(JobRow).where(JobRow.status == RUNNING)).all()
            for row in rows:
                lost = (
                    row.heartbeat_at is None
                    or row.heartbeat_at < stale_before
                    or (row.worker_id is not None and dead(row.worker_id))
                )
                if lost:
                    recovered.append(self._requeue_or_fail(session, row))
        return [job for job in recovered if job is not None]

    def _requeue_or_fail(self, session: Session, row: JobRow) -> Job | None:
        now = utcnow()
        previous_worker = row.worker_id
        base = update(JobRow).where(
            JobRow.id == row.id, JobRow.status == RUNNING, JobRow.worker_id == previous_worker
        )
        if row.attempts < row.max_attempts and not row.cancel_requested:
            moved = changed(
                session,
                base.values(
                    status=QUEUED,
                    worker_id=None,
                    updated_at=now,
                    dispatched_at=None,
                    progress_step=0,
                    progress_message="re-queued after its worker was lost",
                ),
            )
            event_type = JobEvent.REQUEUED
            extra: dict[str, Any] = {"lostWorker": previous_worker}
        else:
            reason = (
                f"worker {previous_worker} was lost on attempt {row.attempts} of {row.max_attempts}"
            )
            status = JobStatus.CANCELLED if row.cancel_requested else JobStatus.FAILED
            lost = JobError(code="worker_lost", message=reason)
            moved = changed(
                session,
                base.values(
                    status=status.value, finished_at=now, updated_at=now, **error_columns(lost)
                ),
            )
            event_type = JobEvent.CANCELLED if row.cancel_requested else JobEvent.FAILED
            extra = {"error": lost.model_dump(mode="json"), "finishedAt": now.isoformat()}
        if moved != 1:
            return None
        session.refresh(row)
        record_event(
            session, event_type, event_payload(row, **extra), job_id=row.id, subject=row.group_id
        )
        drop_previews(session, row.id)  # a lost worker's last picture is stale
        return Job.of(row) if event_type == JobEvent.REQUEUED else self._settled(session, row)
