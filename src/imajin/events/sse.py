"""Server-sent event streams over the outbox: resumable with ``Last-Event-ID``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing

from starlette.concurrency import run_in_threadpool

from imajin.events.fanout import Feed, StreamHub
from imajin.events.models import Event

KEEPALIVE_S = 15.0
PAGE = 500  # events per catch-up read of the outbox


def format_event(event: Event) -> str:
    data = json.dumps(event.model_dump(mode="json", by_alias=True))
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"


async def stream_events(
    hub: StreamHub,
    *,
    after: int,
    types: Sequence[str] = (),
    job_id: str | None = None,
    subject: str | None = None,
    until: Callable[[Event], bool] | None = None,
    keepalive_s: float = KEEPALIVE_S,
) -> AsyncGenerator[str, None]:
    """Yield every matching event after ``after``, then new ones as they are written.

    Stops after an event for which ``until`` is true (e.g. a job's terminal event).
    The backlog is read from the outbox; live events come from the hub's single
    reader, so an idle or caught-up stream costs no query at all. A stream that falls
    behind its bounded queue reads the outbox again from the last id it sent.
    """
    last_id = after
    with hub.open(types=types, job_id=job_id, subject=subject) as feed:
        # The feed is open before the first read: each event is in that read or queued.
        catch_up = True
        while True:
            if catch_up:
                feed.resync()
                async with aclosing(_backlog(hub, feed, last_id)) as backlog:
                    async for event in backlog:
                        last_id = event.id
                        yield format_event(event)
                        if until is not None and until(event):
                            return
                catch_up = False
            try:
                item = await asyncio.wait_for(feed.queue.get(), timeout=keepalive_s)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item is None:  # fell behind: the queue was dropped
                catch_up = True
            elif item.id > last_id:  # the backlog read may have sent it already
                last_id = item.id
                yield format_event(item)
                if until is not None and until(item):
                    return


async def _backlog(hub: StreamHub, feed: Feed, last_id: int) -> AsyncGenerator[Event, None]:
    """Stored events after ``last_id`` matching the feed, page by page, until caught up."""
    wanted = feed.filter
    while True:
        events = await run_in_threadpool(
            hub.store.after,
            last_id,
            types=sorted(wanted.types),
            job_id=wanted.job_id,
            subject=wanted.subject,
            limit=PAGE,
        )
        for event in events:
            last_id = event.id
            yield event
        if len(events) < PAGE:
            return
