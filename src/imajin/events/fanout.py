"""One reader for every live stream of a process: the relay's events, fanned out to queues.

Each SSE stream used to poll the outbox on its own, so N streams cost N queries per
new event. Here the relay (:class:`~imajin.events.bus.EventBus`) reads each event once
and the hub pushes it, filtered, onto every open feed's bounded asyncio queue. A feed
whose consumer falls behind is not allowed to grow: its queue is dropped and the stream
catches up from the outbox from the last id it sent, exactly as a client reconnecting
with ``Last-Event-ID`` would.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from imajin.events.bus import EventBus
from imajin.events.models import Event
from imajin.events.outbox import EventStore

FEED_SIZE = 1000  # events buffered per stream before it falls back to reading the outbox


@dataclass(frozen=True)
class FeedFilter:
    """Which events a stream wants; empty ``types`` means every type."""

    types: frozenset[str] = frozenset()
    job_id: str | None = None
    subject: str | None = None

    def wants(self, event: Event) -> bool:
        return (
            (not self.types or event.type in self.types)
            and (self.job_id is None or event.job_id == self.job_id)
            and (self.subject is None or event.subject == self.subject)
        )


@dataclass(eq=False)
class Feed:
    """One stream's inbox. ``None`` in the queue means "you fell behind: re-read the outbox"."""

    filter: FeedFilter
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Event | None]
    overflowed: bool = field(default=False)

    def offer(self, event: Event) -> None:
        """Called on the relay thread: hand ``event`` to the stream's event loop."""
        # A closed loop means the stream is gone; its exit removes the feed.
        with suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: Event) -> None:
        # Runs on the stream's loop, so it never races with the consumer.
        if self.overflowed:
            return  # the consumer re-reads the outbox past everything dropped here
        if self.queue.full():
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(event)

    def resync(self) -> None:
        """The consumer is about to re-read the outbox: accept live events again.

        Called before that read, so an event is either seen by the read or queued.
        """
        self.overflowed = False


class StreamHub:
    """Subscribes once to the relay and fans every event out to the open feeds."""

    def __init__(self, bus: EventBus, *, feed_size: int = FEED_SIZE) -> None:
        self.store: EventStore = bus.store
        self._feed_size = feed_size
        self._feeds: set[Feed] = set()
        self._lock = threading.Lock()
        bus.subscribe(self._fan_out)

    @contextmanager
    def open(
        self,
        *,
        types: Sequence[str] = (),
        job_id: str | None = None,
        subject: str | None = None,
    ) -> Iterator[Feed]:
        """A feed for the calling event loop, pushed to until the ``with`` block ends."""
        feed = Feed(
            filter=FeedFilter(types=frozenset(types), job_id=job_id, subject=subject),
            loop=asyncio.get_running_loop(),
            queue=asyncio.Queue(maxsize=self._feed_size),
        )
        with self._lock:
            self._feeds.add(feed)
        try:
            yield feed
        finally:
            with self._lock:
                self._feeds.discard(feed)

    def last_id(self) -> int:
        """The newest stored event's id: a stream "from now on" starts after it."""
        return self.store.last_id()

    @property
    def open_feeds(self) -> int:
        with self._lock:
            return len(self._feeds)

    def _fan_out(self, event: Event) -> None:
        with self._lock:
            feeds = list(self._feeds)
        for feed in feeds:
            if feed.filter.wants(event):
                feed.offer(event)
