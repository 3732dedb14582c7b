"""Recovery of jobs whose worker is gone, and the one loop both dispatchers run it in."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from imajin.config.jobs import JobsSettings
from imajin.jobs.models import Job, JobStatus
from imajin.jobs.repository import JobRepository
from imajin.jobs.workers import is_dead_local_worker
from imajin.store.tables import utcnow

logger = logging.getLogger(__name__)


class Reaper:
    """Finds running jobs whose worker is gone and re-queues (or fails) them.

    Args:
        on_requeued: Told about the jobs put back in the queue (the local dispatcher
            wakes its workers; Celery's pump re-sends them by itself).
    """

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
        """One pass: every lost job re-queued or failed, in its own transaction."""
        stale_before = utcnow() - timedelta(seconds=self._settings.stale_after_s)
        recovered = self._repository.recover(stale_before=stale_before, dead=is_dead_local_worker)
        for job in recovered:
            logger.warning("job %s lost its worker: now %s", job.id, job.status)
        requeued = [job for job in recovered if job.status == JobStatus.QUEUED]
        if requeued:
            self._on_requeued(requeued)
        return recovered

    def run_until(self, stop: threading.Event) -> None:
        """Sweep every heartbeat interval until ``stop`` is set (a thread's target).

        A failed sweep (the database is down) is logged and tried again next interval.
        """
        while not stop.wait(self._settings.heartbeat_interval_s):
            try:
                self.sweep()
            except Exception:
                logger.exception("reaper sweep failed")
