"""How a selfie's bytes reach the worker that runs its profile job.

Off by default (``gateway.profile.keep_selfies: false``), a selfie is never written
anywhere: the request hands the bytes to :class:`SelfieInbox`, an in-memory
hand-off in the server process, and the job (run by the same process's local
dispatcher) takes them out. Nothing reaches the job row or the data directory.

Under the Celery dispatcher the job runs in another process: :class:`SelfieCarrier`
gives the inbox's bytes to the job's broker message (a transient, acknowledged-late
message: a worker that dies mid-job leaves it to be re-delivered, selfie included)
and the inbox forgets them once it is sent; the handler takes them from its context.
A job re-queued by the reaper waits ``jobs.celery.redelivery_wait_s`` for that
re-delivery (:mod:`imajin.jobs.redelivery`). A job that finds no selfie (sent again
without its message when none came back in time; or the server restarted) fails
with :class:`SelfieGone`.

With ``keep_selfies: true`` the bytes go under ``<data_dir>/selfies`` instead
(:class:`SelfieStore`): any worker on the same volume can read them, they are
deleted after ``selfie_retention_days``, and ``DELETE /v1/profile/selfies/{id}``
removes one at once.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from pathlib import Path
from typing import Protocol

from imajin.errors import InvalidInput, NotFound, ServiceUnavailable
from imajin.gateway.params import ProfileParams
from imajin.jobs.models import Job
from imajin.storage.local import LocalFileStorage

# Entries nobody took (a job cancelled before it ran) are dropped after this.
_INBOX_TTL_S = 3600.0
SELFIE_ID_PATTERN = r"^[0-9a-f]{32}$"
_ID = re.compile(SELFIE_ID_PATTERN)


GONE_MESSAGE = (
    "The selfie of this job is not held by this process (selfies stay in the memory of "
    "the server that received them, or in the job's broker message, unless "
    "gateway.profile.keep_selfies is on); send it again."
)


class SelfieGone(ServiceUnavailable):
    """The job's selfie is not in this process (memory hand-off) or was deleted."""

    code = "selfie_gone"


class SelfieHandoff(Protocol):
    """Puts a selfie where its job can find it, by an id that goes in the job's params."""

    keeps: bool
    """Whether selfies outlive their job (then the answer carries ``selfie_id``)."""

    def put(self, data: bytes) -> str: ...

    def take(self, selfie_id: str) -> bytes:
        """The selfie's bytes, for the job's one run.

        Raises:
            SelfieGone: It is not here.
        """
        ...

    def discard(self, selfie_id: str) -> None:
        """Forget a selfie the job will not take (its job failed, or was never queued)."""
        ...


def new_selfie_id() -> str:
    return uuid.uuid4().hex


class SelfieInbox:
    """Selfies in memory, each taken once by its job."""

    keeps = False

    def __init__(self, *, ttl_s: float = _INBOX_TTL_S) -> None:
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, bytes]] = {}

    def put(self, data: bytes) -> str:
        selfie_id = new_selfie_id()
        now = time.monotonic()
        with self._lock:
            stale = [key for key, (at, _) in self._items.items() if now - at > self._ttl_s]
            for key in stale:
                del self._items[key]
            self._items[selfie_id] = (now, data)
        return selfie_id

    def take(self, selfie_id: str) -> bytes:
        with self._lock:
            item = self._items.pop(selfie_id, None)
        if item is None:
            raise SelfieGone(GONE_MESSAGE)
        return item[1]

    def peek(self, selfie_id: str) -> bytes | None:
        """The selfie, left in place (None: not here)."""
        with self._lock:
            item = self._items.get(selfie_id)
        return None if item is None else item[1]

    def discard(self, selfie_id: str) -> None:
        with self._lock:
            self._items.pop(selfie_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class SelfieCarrier:
    """The profile kind's message payload: its selfie leaves the inbox with its message.

    Only selfies this process holds travel: a job pumped here for another node, or
    re-queued after its message was sent, goes without one (then :class:`SelfieGone`).
    """

    def __init__(self, inbox: SelfieInbox) -> None:
        self._inbox = inbox

    def outgoing(self, job: Job) -> bytes | None:
        selfie_id = ProfileParams.model_validate(job.params).selfie_id
        return None if selfie_id is None else self._inbox.peek(selfie_id)

    def sent(self, job: Job) -> None:
        selfie_id = ProfileParams.model_validate(job.params).selfie_id
        if selfie_id is not None:
            self._inbox.discard(selfie_id)


class SelfieStore:
    """Selfies kept as files under ``root`` (``<data_dir>/selfies``), for ``retention_days``."""

    keeps = True

    def __init__(self, root: Path, *, retention_days: float) -> None:
        self._files = LocalFileStorage(root)
        self._root = root
        self._retention_s = retention_days * 86400

    def put(self, data: bytes) -> str:
        self.sweep()
        selfie_id = new_selfie_id()
        self._files.write_bytes(selfie_id, data)
        return selfie_id

    def take(self, selfie_id: str) -> bytes:
        path = self._root / _checked(selfie_id)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise SelfieGone(f"Selfie {selfie_id} was deleted; send it again.") from None

    def discard(self, selfie_id: str) -> None:
        """Kept selfies stay until their retention ends or they are deleted."""

    def delete(self, selfie_id: str) -> None:
        """Remove a kept selfie now.

        Raises:
            InvalidInput: The id is malformed.
            NotFound: No selfie has this id.
        """
        path = self._root / _checked(selfie_id)
        try:
            path.unlink()
        except FileNotFoundError:
            raise NotFound(f"No kept selfie has id {selfie_id}.", field="selfie_id") from None

    def sweep(self, *, now: float | None = None) -> int:
        """Delete selfies older than the retention period; returns how many went."""
        if not self._root.is_dir():
            return 0
        cutoff = (time.time() if now is None else now) - self._retention_s
        removed = 0
        for path in self._root.iterdir():
            if path.is_file() and _ID.match(path.name) and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def _checked(selfie_id: str) -> str:
    if not _ID.match(selfie_id):
        raise InvalidInput(
            "`selfie_id` must be the 32 hexadecimal characters a profile answer gave.",
            field="selfie_id",
        )
    return selfie_id
