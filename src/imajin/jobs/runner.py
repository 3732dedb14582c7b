"""Runs one claimed job through its handler and records how it ended."""

from __future__ import annotations

import logging
import threading
from typing import Any

from imajin.errors import ImajinError
from imajin.jobs.handlers import HandlerRegistry, JobCancelled, JobContext
from imajin.jobs.models import Job, JobStatus
from imajin.jobs.repository import JobRepository

logger = logging.getLogger(__name__)


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
    """Claims (for Celery) and runs jobs; the same code under every dispatcher."""

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

    def run_by_id(self, job_id: str, worker: str) -> bool:
        """Claim and run ``job_id``; False when it is not queued (a duplicate delivery)."""
        job = self._repository.claim(job_id, worker)
        if job is None:
            logger.info("job %s is not queued (already run or running); skipping", job_id)
            return False
        self.run_claimed(job, worker)
        return True

    def run_claimed(self, job: Job, worker: str) -> None:
        """Run a job this worker has claimed, and store its outcome.

        The attempt is counted here, as the handler starts, not at claim.
        """
        started = self._repository.begin_attempt(job.id, worker)
        if started is None:
            logger.warning("job %s was taken from %s before its handler started", job.id, worker)
            return
        job = started
        job_logger = logging.LoggerAdapter(logger, {"job_id": job.id, "kind": job.kind})

        def progress(step: int, total: int, message: str, extra: dict[str, Any]) -> bool:
            return self._repository.report_progress(
                job.id, worker, step=step, total=total, message=message, extra=extra
            )

        def preview(fields: dict[str, Any]) -> None:
            try:
                self._repository.report_preview(job.id, worker, fields)
            except Exception:  # a lost preview is harmless; the job goes on
                job_logger.warning("could not store a live preview", exc_info=True)

        ctx = JobContext(
            job=job,
            logger=job_logger,
            _progress=progress,
            _preview=preview,
            _min_interval_s=self._progress_interval_s,
        )
        self._heartbeats.add(job.id, worker)
        try:
            self._execute(ctx, worker)
        finally:
            self._heartbeats.remove(job.id)

    def _execute(self, ctx: JobContext, worker: str) -> None:
        job = ctx.job
        try:
            result = self._handlers.get(job.kind)(ctx) or {}
        except JobCancelled:
            self._repository.finish(
                job.id,
                worker,
                status=JobStatus.CANCELLED,
                error=("cancelled", "cancelled on request"),
            )
            return
        except ImajinError as exc:
            ctx.logger.warning("job failed: %s", exc.message)
            self._repository.finish(
                job.id, worker, status=JobStatus.FAILED, error=(exc.code, exc.message)
            )
            return
        except Exception as exc:
            ctx.logger.exception("job crashed")
            self._repository.finish(
                job.id,
                worker,
                status=JobStatus.FAILED,
                error=("handler_error", f"{type(exc).__name__}: {exc}"),
            )
            return

        def final_writes(session: Any) -> None:
            for write in ctx._final_writes:
                write(session)

        if not self._repository.finish(
            job.id, worker, status=JobStatus.SUCCEEDED, result=result, in_transaction=final_writes
        ):
            ctx.logger.warning("job finished but was no longer ours (re-queued meanwhile)")
