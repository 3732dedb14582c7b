"""The relay: reads the outbox in order and hands each event to in-process subscribers.

Polling the outbox (one ``max(id)`` query per interval) works the same for events
written by this process, by worker processes, and by other nodes sharing the
database, so no event is delivered only "if you were connected at the time".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from imajin.events.models import Event
from imajin.events.outbox import EventStore

logger = logging.getLogger(__name__)

Subscriber = Callable[[Event], None]


@dataclass
class _Subscription:
    callback: Subscriber
    types: frozenset[str]


class EventBus:
    """Delivers outbox events to subscribers, in id order, once each per process."""

    def __init__(self, store: EventStore, *, poll_interval_s: float = 0.2) -> None:
        self.store = store
        self._poll_interval_s = poll_interval_s
        self._subscriptions: list[_Subscription] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.latest_id = 0  # newest id delivered
        self._cursor: int | None = 0  # None: "from now on", fixed at the first successful read

    @property
    def relayed_through(self) -> int | None:
        """Every event up to this id has been delivered here (None: not read yet)."""
        return self._cursor

    def last_id(self) -> int:
        """The newest stored event's id: a feed "from now on" starts after it."""
        return self.store.last_id()

    def subscribe(self, callback: Subscriber, *, types: Sequence[str] = ()) -> Callable[[], None]:
        """Call ``callback`` for each new event (of ``types``, if given); returns unsubscribe."""
        subscription = _Subscription(callback, frozenset(types))
        with self._lock:
            self._subscriptions.append(subscription)

        def unsubscribe() -> None:
            with self._lock:
                if subscription in self._subscriptions:
                    self._subscriptions.remove(subscription)

        return unsubscribe

    def start(self, *, from_id: int | None = None) -> None:
        """Deliver events after ``from_id`` (default: only those written from now on).

        "From now on" is fixed here when the store answers, so a stream that reads the
        backlog right after start-up cannot fall between that read and the relay.
        """
        self._cursor = from_id
        if from_id is None:
            try:
                self._cursor = self.latest_id = self.store.last_id()
            except Exception:  # the store is down: fixed at the first successful read
                logger.warning("event relay could not read the outbox", exc_info=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="imajin-event-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def pump(self) -> int:
        """Deliver everything pending now; returns how many events were delivered."""
        delivered = 0
        if self._cursor is None:
            self._cursor = self.latest_id = self.store.last_id()
        while True:
            events = self.store.after(self._cursor)
            if not events:
                return delivered
            for event in events:
                self._deliver(event)
                self._cursor = event.id
                self.latest_id = max(self.latest_id, event.id)
                delivered += 1

    def _deliver(self, event: Event) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            if subscription.types and event.type not in subscription.types:
                continue
            try:
                subscription.callback(event)
            except Exception:  # one bad subscriber must not stop the others
                logger.exception("event subscriber failed on event %s", event.id)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.pump()
            except Exception:
                logger.warning("event relay could not read the outbox", exc_info=True)
            self._wake.wait(self._poll_interval_s)
            self._wake.clear()
