"""Retention: finished job history and old outbox events are pruned periodically.

One small daemon thread per serving process (started by ``Platform.start``). Pruning
is idempotent, so several nodes sharing a database may each run it. What is never
deleted: queued or running jobs and their events, the jobs of an existing studio
batch, and events the relay of this process has not delivered yet. The same thread
drops, every minute, the deliver-once result keys nobody read in time
(:mod:`imajin.jobs.deliver_once`: a selfie's features).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from imajin.events.outbox import EventStore
from imajin.jobs.repository import JobRepository
from imajin.store.tables import utcnow

logger = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 3600.0
FORGET_INTERVAL_S = 60.0  # unread deliver-once keys outlive their deadline by at most this
FIRST_SWEEP_AFTER_S = 60.0  # not in the start-up rush


@dataclass(frozen=True)
class Pruned:
    jobs: int
    events: int


class RetentionSweeper:
    """Deletes what has outlived ``history_days`` (jobs) and ``retention_days`` (events).

    Args:
        relayed_through: the relay's position (``EventBus.relayed_through``); events
            past it are kept, and none are pruned while it is unknown.
        history_days / retention_days: 0 keeps that kind forever.
        forget_interval_s: How often unread deliver-once keys past their deadline go.
    """

    def __init__(
        self,
        *,
        jobs: JobRepository,
        events: EventStore,
        relayed_through: Callable[[], int | None],
        history_days: int,
        retention_days: int,
        interval_s: float = SWEEP_INTERVAL_S,
        first_after_s: float = FIRST_SWEEP_AFTER_S,
        forget_interval_s: float = FORGET_INTERVAL_S,
    ) -> None:
        self._jobs = jobs
        self._events = events
        self._relayed_through = relayed_through
        self._history_days = history_days
        self._retention_days = retention_days
        self._interval_s = interval_s
        self._first_after_s = first_after_s
        self._forget_interval_s = forget_interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self, *, now: datetime | None = None) -> Pruned:
        """Prune once, now; returns how many rows of each kind went."""
        now = now or utcnow()
        jobs = events = 0
        if self._history_days:
            jobs = self._jobs.prune_finished(
                finished_before=now - timedelta(days=self._history_days)
            )
        relayed = self._relayed_through()
        if self._retention_days and relayed is not None:
            events = self._events.prune(
                before=now - timedelta(days=self._retention_days), relayed_through=relayed
            )
        if jobs or events:
            logger.info("retention: pruned %d finished jobs and %d events", jobs, events)
        return Pruned(jobs=jobs, events=events)

    def forget_unread(self, *, now: datetime | None = None) -> int:
        """Drop the deliver-once result keys whose deadline has passed unread; how many jobs."""
        forgotten = self._jobs.forget_undelivered(now=now or utcnow())
        if forgotten:
            logger.info("retention: dropped unread deliver-once results of %d jobs", forgotten)
        return forgotten

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Sweep in the background (first after ``first_after_s``), and forget unread
        deliver-once keys every ``forget_interval_s`` (even when both retentions are 0)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="imajin-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        sweep_at = time.monotonic() + self._first_after_s
        while not self._stop.wait(
            max(0.0, min(self._forget_interval_s, sweep_at - time.monotonic()))
        ):
            try:
                self.forget_unread()
                if time.monotonic() >= sweep_at:
                    sweep_at = time.monotonic() + self._interval_s
                    if self._history_days or self._retention_days:
                        self.sweep()
            except Exception:  # the store may be down: try again next interval
                logger.warning("retention sweep failed", exc_info=True)
