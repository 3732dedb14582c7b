"""A re-delivered message whose job still looks owned by the worker that died.

Under Celery a worker killed mid-job leaves its message unacknowledged, and the broker
hands it to another worker (RabbitMQ at once, Redis after the visibility timeout) with
its payload (a selfie). Until the reaper re-queues the job, claiming it fails; dropping
the message then would lose the payload for good, since the reaper's re-queue is sent
without one. So a message that carries a payload watches its job for a while instead.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from imajin.jobs.errors import JobNotFound
from imajin.jobs.models import Job, JobStatus
from imajin.jobs.repository import JobRepository

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LostWorkerWait:
    """How long a re-delivered message watches a running job (``jobs`` settings).

    Attributes:
        wait_s: The longest watch: long enough for the reaper to find the worker lost
            (``stale_after_s`` plus a few heartbeats).
        beat_s: ``heartbeat_interval_s``: a job that beats twice more has a live worker.
    """

    wait_s: float
    beat_s: float

    @classmethod
    def after(cls, *, stale_after_s: float, heartbeat_interval_s: float) -> LostWorkerWait:
        return cls(wait_s=stale_after_s + 3 * heartbeat_interval_s, beat_s=heartbeat_interval_s)


def claim_after_lost_worker(
    repository: JobRepository, job_id: str, worker: str, *, wait: LostWorkerWait
) -> Job | None:
    """Claim ``job_id`` for ``worker`` once the reaper has re-queued it.

    None (the message is dropped, as any duplicate) when the job ends meanwhile, another
    message claims it first, its worker is alive (its heartbeat moves on: this message
    was a duplicate) or ``wait.wait_s`` passes.
    """
    deadline = time.monotonic() + wait.wait_s
    first_beat: datetime | None = None
    while True:
        try:
            job = repository.get(job_id)
        except JobNotFound:
            return None
        if job.status == JobStatus.QUEUED:
            return repository.claim(job_id, worker)
        if job.status != JobStatus.RUNNING:
            return None
        if first_beat is None:
            first_beat = job.heartbeat_at
        elif _beats_on(job.heartbeat_at, since=first_beat, beat_s=wait.beat_s):
            logger.info("job %s still runs on %s; dropping its re-delivery", job_id, job.worker_id)
            return None
        if time.monotonic() >= deadline:
            logger.warning("job %s was not re-queued in %.0f s; dropping", job_id, wait.wait_s)
            return None
        time.sleep(wait.beat_s / 4)


def _beats_on(beat: datetime | None, *, since: datetime, beat_s: float) -> bool:
    # Two intervals on: a dead worker's last writes in flight carry older timestamps.
    return beat is not None and beat > since + timedelta(seconds=2 * beat_s)
