"""Runs one claimed job through its handler and records how it ended."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from imajin.errors import ImajinError
from imajin.jobs.handlers import BatchRule, HandlerRegistry, JobCancelled, JobContext, Outcome
from imajin.jobs.models import Job, JobError, JobStatus, job_error_of
from imajin.jobs.redelivery import LostWorkerWait, claim_after_lost_worker
from imajin.jobs.repository import JobRepository

logger = logging.getLogger(__name__)

GATHER_POLL_S = 0.02  # how often a gathering worker looks for more compatible jobs
CANCELLED_ERROR = JobError(code="cancelled", message="cancelled on request")


class Heartbeats:
    """One thread per process that keeps the heartbeat of every job running here fresh."""

    def __init__(self, repository: JobRepository, *, interval_s: float) -> None:
        self._repository = repository
        self._interval_s = interval_s
        self._running: dict[str, str] = {}  # job id → worker id
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, job_id: str, worker: str) -> None:
        with self._lock:
            self._running[job_id] = worker

    def remove(self, job_id: str) -> None:
        with self._lock:
            self._running.pop(job_id, None)

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="imajin-heartbeat", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            with self._lock:
                by_worker: dict[str, list[str]] = {}
                for job_id, worker in self._running.items():
                    by_worker.setdefault(worker, []).append(job_id)
            for worker, job_ids in by_worker.items():
                try:
                    self._repository.heartbeat(job_ids, worker)
                except Exception:  # a missed beat is retried next interval
                    logger.warning("heartbeat failed for %s", job_ids, exc_info=True)


class JobRunner:
    """Claims (for Celery) and runs jobs; the same code under every dispatcher.

    A claimed job whose kind has a batch rule takes compatible queued jobs with it
    (:meth:`JobRepository.claim_companions`): they run in one call of the rule, each
    with its own attempt, heartbeat, progress, cancel and final state. A job of the batch
    cancelled before the call ends cancelled without running, and its place is offered
    to the queue again.
    """

    def __init__(
        self,
        repository: JobRepository,
        handlers: HandlerRegistry,
        heartbeats: Heartbeats,
        *,
        progress_interval_s: float = 0.2,
    ) -> None:
        self._repository = repository
        self._handlers = handlers
        self._heartbeats = heartbeats
        self._progress_interval_s = progress_interval_s

    def run_by_id(
        self,
        job_id: str,
        worker: str,
        *,
        gather_s: float = 0.0,
        payload: bytes | None = None,
        lost_worker_wait: LostWorkerWait | None = None,
    ) -> bool:
        """Claim and run ``job_id``; False when it is not queued (a duplicate delivery, or a
        job another worker took into its batch).

        Args:
            gather_s: How long to keep gathering compatible queued jobs into its batch.
            payload: Bytes its broker message carried, for its handler only (companions
                gathered into its batch get none: no message of theirs was read).
            lost_worker_wait: With a payload, a job still running on another worker is
                watched this long for the reaper to re-queue it (a re-delivery after its
                worker died is the payload's only copy), see :mod:`imajin.jobs.redelivery`.
        """
        job = self._repository.claim(job_id, worker)
        if job is None and payload is not None and lost_worker_wait is not None:
            job = claim_after_lost_worker(self._repository, job_id, worker, wait=lost_worker_wait)
        if job is None:
            logger.info("job %s is not queued (already run or running); skipping", job_id)
            return False
        self.run_claimed(job, worker, gather_s=gather_s, payload=payload)
        return True

    def run_claimed(
        self,
        job: Job,
        worker: str,
        *,
        queues: Sequence[str] = (),
        gather_s: float = 0.0,
        payload: bytes | None = None,
    ) -> None:
        """Run a job this worker has claimed (with any batch it gathers), storing outcomes.

        Attempts are counted here, as the handler starts, not at claim.

        Args:
            queues: Admission queues companions may come from (all when empty).
            gather_s: How long to keep gathering companions while the batch is not full.
            payload: What ``job``'s message carried (see :meth:`run_by_id`).
        """
        rule = self._handlers.batch_rule(job.kind)
        batch = [job]
        self._heartbeats.add(job.id, worker)  # gathering may outlast a heartbeat interval
        try:
            if rule is not None:
                batch = self._gather(job, worker, rule, queues=queues, gather_s=gather_s)
            for claimed in batch:
                self._heartbeats.add(claimed.id, worker)
            begun = [
                self._begin(claimed, worker, payload=payload if claimed.id == job.id else None)
                for claimed in batch
            ]
            contexts = [ctx for ctx in begun if ctx]
            if rule is not None and len(contexts) > 1:
                self._execute_batch(contexts, worker, rule)
            elif contexts:
                self._execute(contexts[0], worker)
        finally:
            for claimed in (job, *batch):
                self._heartbeats.remove(claimed.id)

    def _gather(
        self, job: Job, worker: str, rule: BatchRule, *, queues: Sequence[str], gather_s: float
    ) -> list[Job]:
        """``job`` and the compatible queued jobs claimed to run with it: for up to
        ``gather_s`` while the batch is not full, and once more for each place freed.

        A job of the batch cancelled meanwhile (``job`` too) ends cancelled here, before
        any handler starts, and one no longer ours is let go (see :meth:`_still_ours`):
        its place goes to a compatible job waiting in the queue, or the batch runs smaller.
        """
        try:
            key = rule.key(job)
            size = rule.limit(job) if key is not None else 1
        except Exception:  # bad params fail in the handler, with the field named
            logger.debug("job %s runs alone (no shape key)", job.id, exc_info=True)
            return [job]
        if size <= 1:
            return [job]

        def fits(other: Job) -> bool:
            try:
                return rule.key(other) == key
            except Exception:
                return False

        kinds = self._handlers.batching_with(rule)
        deadline = time.monotonic() + gather_s
        batch = [job]
        while True:
            try:
                if len(batch) < size:
                    batch += self._repository.claim_companions(
                        job, worker, kinds=kinds, fits=fits, limit=size - len(batch), queues=queues
                    )
                kept = self._still_ours(batch, worker)
            except Exception:  # the job still runs; alone, or with those claimed so far
                logger.warning("could not gather a batch for job %s", job.id, exc_info=True)
                return batch
            freed, batch = len(kept) < len(batch), kept
            left = deadline - time.monotonic()
            if not batch or (not freed and (len(batch) >= size or left <= 0)):
                return batch
            if left > 0:  # past the window, a freed place is offered to waiting jobs at once
                time.sleep(min(GATHER_POLL_S, left))

    def _still_ours(self, batch: list[Job], worker: str) -> list[Job]:
        """The jobs of a gathered ``batch`` left to run: one whose cancel was asked for ends
        cancelled now (no attempt counted; it would ride through the whole engine call
        otherwise), and one no longer ``worker``'s (re-queued by the reaper) is let go."""
        held = self._repository.held([claimed.id for claimed in batch], worker)
        kept: list[Job] = []
        for claimed in batch:
            if claimed.id not in held:
                logger.warning("job %s left %s's batch before it ran", claimed.id, worker)
            elif held[claimed.id]:
                self._repository.finish(
                    claimed.id, worker, status=JobStatus.CANCELLED, error=CANCELLED_ERROR
                )
            else:
                kept.append(claimed)
        return kept

    def _begin(self, job: Job, worker: str, *, payload: bytes | None = None) -> JobContext | None:
        started = self._repository.begin_attempt(job.id, worker)
        if started is None:
            logger.warning("job %s was taken from %s before its handler started", job.id, worker)
            return None
        job_logger = logging.LoggerAdapter(logger, {"job_id": started.id, "kind": started.kind})

        def progress(step: int, total: int, message: str, extra: dict[str, Any]) -> bool:
            return self._repository.report_progress(
                started.id, worker, step=step, total=total, message=message, extra=extra
            )

        def cancel_requested() -> bool:
            return self._repository.held([started.id], worker).get(started.id, True)

        def preview(fields: dict[str, Any]) -> None:
            try:
                self._repository.report_preview(started.id, worker, fields)
            except Exception:  # a lost preview is harmless; the job goes on
                job_logger.warning("could not store a live preview", exc_info=True)

        return JobContext(
            job=started,
            logger=job_logger,
            _progress=progress,
            _preview=preview,
            _min_interval_s=self._progress_interval_s,
            _payload=payload,
            _cancel_requested=cancel_requested,
        )

    def _execute(self, ctx: JobContext, worker: str) -> None:
        try:
            outcome: Outcome = self._handlers.get(ctx.job.kind)(ctx)
        except Exception as exc:  # JobCancelled too: recorded as the job's outcome
            outcome = exc
        self._record(ctx, worker, outcome)

    def _execute_batch(self, contexts: list[JobContext], worker: str, rule: BatchRule) -> None:
        try:
            outcomes = rule.run(contexts)
        except Exception:
            # The shared call broke before any job had an outcome of its own: run each
            # alone, so whatever broke it cannot fail a job that works by itself.
            logger.exception("batch of %d jobs failed; running them one by one", len(contexts))
            for ctx in contexts:
                self._execute(ctx, worker)
            return
        for ctx, outcome in zip(contexts, outcomes, strict=True):
            self._record(ctx, worker, outcome)

    def _record(self, ctx: JobContext, worker: str, outcome: Outcome) -> None:
        job = ctx.job
        if isinstance(outcome, JobCancelled):
            self._repository.finish(
                job.id, worker, status=JobStatus.CANCELLED, error=CANCELLED_ERROR
            )
            return
        if isinstance(outcome, ImajinError):
            ctx.logger.warning("job failed: %s", outcome.message)
            self._repository.finish(
                job.id, worker, status=JobStatus.FAILED, error=job_error_of(outcome)
            )
            return
        if isinstance(outcome, BaseException):
            ctx.logger.error("job crashed", exc_info=outcome)
            self._repository.finish(
                job.id,
                worker,
                status=JobStatus.FAILED,
                error=JobError(
                    code="handler_error", message=f"{type(outcome).__name__}: {outcome}"
                ),
            )
            return

        def final_writes(session: Any) -> None:
            for write in ctx._final_writes:
                write(session)

        if not self._repository.finish(
            job.id,
            worker,
            status=JobStatus.SUCCEEDED,
            result=outcome or {},
            in_transaction=final_writes,
            deliver_once=ctx._deliver_once,
        ):
            ctx.logger.warning("job finished but was no longer ours (re-queued meanwhile)")
