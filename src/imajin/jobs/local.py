"""The embedded dispatcher: worker threads in the server process claim jobs from the store."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta

from imajin.config.jobs import JobsSettings
from imajin.jobs.models import Job
from imajin.jobs.repository import JobRepository
from imajin.jobs.runner import JobRunner
from imajin.jobs.workers import is_dead_local_worker, worker_id
from imajin.store.tables import utcnow

logger = logging.getLogger(__name__)


class Reaper:
    """Finds running jobs whose worker is gone and re-queues (or fails) them."""

    def __init__(
        self,
        repository: JobRepository,
        settings: JobsSettings,
        on_requeued: Callable[[list[Job]], None],
    ) -> None:
        self._repository = repository
        self._settings = settings
        self._on_requeued = on_requeued

    def sweep(self) -> list[Job]:
        stale_before = utcnow() - timedelta(seconds=self._settings.stale_after_s)
        recovered = self._repository.recover(stale_before=stale_before, dead=is_dead_local_worker)
        for job in recovered:
            logger.warning("job %s lost its worker: now %s", job.id, job.status)
        requeued = [job for job in recovered if job.status == "queued"]
        if requeued:
            self._on_requeued(requeued)
        return recovered


class LocalDispatcher:
    """N threads, each claiming the next job by priority and running it.

    Wakes on :meth:`dispatch` (jobs submitted here) and polls every
    ``poll_interval_s`` (jobs submitted by other processes sharing the store).
    """

    def __init__(
        self,
        repository: JobRepository,
        runner: JobRunner,
        settings: JobsSettings,
        *,
        queues: Sequence[str] = (),
    ) -> None:
        self._repository = repository
        self._runner = runner
        self._settings = settings
        self._queues = tuple(queues)
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.reaper = Reaper(repository, settings, self.dispatch)

    def start(self) -> None:
        self._stop.clear()
        try:
            self.reaper.sweep()  # jobs a crashed process left running
        except Exception:  # the database may be down now; the reaper thread retries
            logger.exception("start-up recovery sweep failed")
        for index in range(self._settings.workers):
            thread = threading.Thread(
                target=self._work,
                args=(f"local-{index}",),
                name=f"imajin-worker-{index}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        reaper = threading.Thread(target=self._reap, name="imajin-reaper", daemon=True)
        reaper.start()
        self._threads.append(reaper)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()

    def dispatch(self, jobs: Sequence[Job]) -> None:
        with self._wake:
            self._wake.notify(len(jobs) or 1)

    def _work(self, name: str) -> None:
        me = worker_id(name)
        while not self._stop.is_set():
            try:
                job = self._repository.claim_next(me, queues=self._queues)
            except Exception:
                logger.exception("could not claim a job; retrying")
                job = None
            if job is None:
                with self._wake:
                    self._wake.wait(self._settings.poll_interval_s)
                continue
            self._runner.run_claimed(job, me)

    def _reap(self) -> None:
        while not self._stop.wait(self._settings.heartbeat_interval_s):
            try:
                self.reaper.sweep()
            except Exception:
                logger.exception("reaper sweep failed")
