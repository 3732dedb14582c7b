"""Platform health kept current by a background checker, so reading it never waits.

``/health`` used to ping the database and stat the storage inside a sync route, that
is in the request thread pool: when a burst filled the pool, the load balancer's
probe queued behind it and timed out. The checker runs on its own thread; the route
reads the last result. A check that stops answering (a hung database) makes its
result stale, and a stale result reports that part as failing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from imajin.storage.local import StorageHealth

logger = logging.getLogger(__name__)

T = TypeVar("T")

CHECK_INTERVAL_S = 2.0
STALE_AFTER_S = 10.0  # a result this old means its check hangs


@dataclass(frozen=True)
class HealthSnapshot:
    database_ok: bool
    storage: StorageHealth

    @property
    def healthy(self) -> bool:
        return self.database_ok and self.storage.writable


@dataclass(frozen=True)
class _Result(Generic[T]):
    value: T
    at: float  # time.monotonic() of the check


_Results = tuple[_Result[bool], _Result[StorageHealth]]
# Only if check() stored nothing, which it always does: reads as failed and stale.
_NEVER: _Results = (
    _Result(False, float("-inf")),
    _Result(StorageHealth(base_path="", exists=False, writable=False), float("-inf")),
)


class HealthMonitor:
    """Checks the database and storage every ``interval_s`` on a daemon thread."""

    def __init__(
        self,
        *,
        ping_database: Callable[[], bool],
        check_storage: Callable[[], StorageHealth],
        interval_s: float = CHECK_INTERVAL_S,
        stale_after_s: float = STALE_AFTER_S,
    ) -> None:
        self._ping_database = ping_database
        self._check_storage = check_storage
        self._interval_s = interval_s
        self._stale_after_s = stale_after_s
        self._results: _Results | None = None  # replaced whole, so readers need no lock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Check once now (the first probe after start-up is already accurate), then keep
        checking in the background."""
        if self._thread is not None:
            return
        self.check()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="imajin-health", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def check(self) -> None:
        """Run both checks now and keep their results."""
        try:
            database_ok = self._ping_database()
        except Exception:  # any failure to answer is "unavailable", never a 500
            logger.warning("health: database check failed", exc_info=True)
            database_ok = False
        database = _Result(database_ok, time.monotonic())
        self._results = (database, _Result(self._check_storage(), time.monotonic()))

    def current(self) -> HealthSnapshot:
        """The latest results; checks inline only when the checker was never started."""
        if self._results is None:
            self.check()
        database, storage = self._results or _NEVER
        now = time.monotonic()
        database_ok = database.value and now - database.at <= self._stale_after_s
        storage_health = storage.value
        if now - storage.at > self._stale_after_s:
            storage_health = storage_health.model_copy(update={"writable": False})
        return HealthSnapshot(database_ok=database_ok, storage=storage_health)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.check()
            except Exception:  # keep checking; a stale result reports the failure
                logger.warning("health check failed", exc_info=True)
