"""Admission: bounded queues. A full queue answers with how long to wait, not a pile-up."""

from __future__ import annotations

import statistics
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from imajin.config.jobs import JobsSettings
from imajin.jobs.errors import QueueFull
from imajin.jobs.models import Job, JobSpec
from imajin.jobs.repository import JobRepository
from imajin.store.database import Database

WithJobs = Callable[[Session, list[Job]], None]

# A burst into a full queue is refused from the count that found it full, this long,
# instead of one count per request: the 300th refusal costs no query.
FULL_REMEMBERED_S = 0.25


@dataclass(frozen=True)
class _Full:
    active: int
    retry: int
    at: float  # time.monotonic() of the count


class Admission:
    """Writes jobs (and their QUEUED events) only while their queues have room.

    The count and the insert happen under a per-queue lock — a thread lock in
    this process and, on PostgreSQL, a transaction-scoped advisory lock across
    nodes — so concurrent submits cannot overshoot a queue's capacity.
    """

    def __init__(
        self, database: Database, repository: JobRepository, settings: JobsSettings
    ) -> None:
        self._database = database
        self._repository = repository
        self._settings = settings
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()
        self._full: dict[str, _Full] = {}  # queue -> its last count that found it full

    def admit(self, specs: Sequence[JobSpec], *, with_jobs: WithJobs | None = None) -> list[Job]:
        """Queue all ``specs`` or none.

        ``with_jobs(session, jobs)`` runs in the same transaction, for a service's own
        rows and events (a variation and its QUEUED event commit with its job).

        Raises:
            Overloaded: a queue lacks room for its share of ``specs``; nothing is written.
        """
        by_queue: dict[str, int] = defaultdict(int)
        for spec in specs:
            by_queue[spec.queue] += 1
        queues = sorted(by_queue)  # one lock order everywhere: no deadlocks
        with self._locks_guard:
            locks = [self._locks[queue] for queue in queues]
        for lock in locks:
            lock.acquire()
        try:
            with self._database.session() as session:
                for queue in queues:
                    self._lock_across_nodes(session, queue)
                    self._check_room(session, queue, wanted=by_queue[queue])
                jobs = self._repository.insert(
                    session, specs, max_attempts=self._settings.max_attempts
                )
                if with_jobs is not None:
                    with_jobs(session, jobs)
            for queue in queues:
                self._full.pop(queue, None)  # there was room: stop refusing early
            return jobs
        finally:
            for lock in reversed(locks):
                lock.release()

    def check_room(self, queue: str, *, wanted: int = 1) -> None:
        """Refuse now, without the queue's lock, when ``queue`` is already full.

        For callers that prepare work before submitting (an output folder, say): a
        burst into a full queue is answered by one count each, in parallel, instead
        of queuing on the lock. :meth:`admit` still decides, under the lock.

        Raises:
            Overloaded: the queue lacks room for ``wanted`` more jobs.
        """
        full = self._full.get(queue)
        if full is not None and time.monotonic() - full.at < FULL_REMEMBERED_S:
            self._refuse_if_full(queue, active=full.active, wanted=wanted, retry=full.retry)
            return  # still room for ``wanted`` by the remembered count: admit() decides
        with self._database.session() as session:
            active = self._repository.active_count(session, queue)
        # Outside the session: the refusal reads durations through a session of its own,
        # and a thread holding two pooled connections at once could starve the pool.
        try:
            self._refuse_if_full(queue, active=active, wanted=wanted)
        except QueueFull as refused:
            self._full[queue] = _Full(active, refused.retry_after, time.monotonic())
            raise

    def _lock_across_nodes(self, session: Session, queue: str) -> None:
        if self._database.dialect == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(zlib.crc32(queue.encode()))))

    def _check_room(self, session: Session, queue: str, *, wanted: int) -> None:
        self._refuse_if_full(
            queue, active=self._repository.active_count(session, queue), wanted=wanted
        )

    def _refuse_if_full(
        self, queue: str, *, active: int, wanted: int, retry: int | None = None
    ) -> None:
        capacity = self._settings.capacity_of(queue)
        if active + wanted > capacity:
            retry_after = retry if retry is not None else self.retry_after(queue, depth=active)
            raise QueueFull(
                f"Queue {queue!r} is full ({active} of {capacity} places taken, {wanted} "
                f"asked for); retry in about {retry_after} s.",
                retry_after=retry_after,
            )

    def retry_after(self, queue: str, *, depth: int) -> int:
        """Seconds until a place is likely free: typical run time × jobs ahead per worker."""
        durations = self._repository.recent_durations(queue)
        if not durations:
            return self._settings.retry_after_default_s
        workers = max(self._settings.workers, 1)
        estimate = statistics.median(durations) * max(depth, 1) / workers
        return max(1, min(round(estimate), self._settings.retry_after_max_s))
