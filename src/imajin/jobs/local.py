"""The embedded dispatcher: worker threads in the server process claim jobs from the store."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from imajin.config.jobs import JobsSettings
from imajin.jobs.models import Job
from imajin.jobs.reaper import Reaper
from imajin.jobs.repository import JobRepository
from imajin.jobs.runner import JobRunner
from imajin.jobs.workers import worker_id

logger = logging.getLogger(__name__)


class LocalDispatcher:
    """N threads, each claiming the next job by priority and running it (with the queued
    jobs of the same shape it may batch with, found at once: no gathering window here).

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
        reaper = threading.Thread(
            target=self.reaper.run_until, args=(self._stop,), name="imajin-reaper", daemon=True
        )
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
            self._runner.run_claimed(job, me, queues=self._queues)
