"""Server-sent event streams over the outbox: resumable with ``Last-Event-ID``."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence

from starlette.concurrency import run_in_threadpool

from imajin.events.bus import EventBus
from imajin.events.models import Event

KEEPALIVE_S = 15.0
CHECK_S = 0.1


def format_event(event: Event) -> str:
    data = json.dumps(event.model_dump(mode="json", by_alias=True))
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"


async def stream_events(
    bus: EventBus,
    *,
    after: int,
    types: Sequence[str] = (),
    job_id: str | None = None,
    subject: str | None = None,
    until: Callable[[Event], bool] | None = None,
    disconnected: Callable[[], bool] | None = None,
) -> AsyncIterator[str]:
    """Yield every matching event after ``after``, then new ones as they are written.

    Stops after an event for which ``until`` is true (e.g. a job's terminal event).
    Between events it costs no query: it waits for the relay to see a newer id.
    """
    last_id = after
    last_sent = time.monotonic()
    while True:
        events = await run_in_threadpool(
            bus.store.after, last_id, types=types, job_id=job_id, subject=subject
        )
        for event in events:
            last_id = event.id
            yield format_event(event)
            last_sent = time.monotonic()
            if until is not None and until(event):
                return
        seen = max(last_id, bus.latest_id)
        while bus.latest_id <= seen:
            if disconnected is not None and disconnected():
                return
            if time.monotonic() - last_sent > KEEPALIVE_S:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            await asyncio.sleep(CHECK_S)
