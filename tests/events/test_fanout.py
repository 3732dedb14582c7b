"""SSE streams share one reader: N streams cost the relay's queries, not N times them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from imajin.events.bus import EventBus
from imajin.events.fanout import StreamHub
from imajin.events.outbox import EventStore, record_event
from imajin.events.sse import stream_events
from imajin.store.database import Database
from imajin.store.migrate import upgrade

STREAMS = 40


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'fanout.db'}")
    upgrade(database)
    yield database
    database.dispose()


def write(database: Database, event_type: str, *, job_id: str | None = None, n: int = 0) -> None:
    with database.session() as session:
        record_event(session, event_type, {"n": n}, job_id=job_id)


@contextmanager
def outbox_reads(database: Database) -> Iterator[list[str]]:
    """Every SELECT on the events table run through ``database``'s engine meanwhile."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM events" in statement:
            seen.append(statement)

    sa_event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa_event.remove(database.engine, "before_cursor_execute", count)


async def collect(
    stream: Any, into: list[dict[str, Any]], *, until_count: int | None = None
) -> None:
    async for chunk in stream:
        if chunk.startswith(":"):
            continue
        fields = dict(line.split(": ", 1) for line in chunk.strip().splitlines())
        into.append(
            {"id": int(fields["id"]), "event": fields["event"], **json.loads(fields["data"])}
        )
        if until_count is not None and len(into) >= until_count:
            return


async def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


def test_many_live_streams_cost_one_outbox_read_per_poll(sqlite: Database) -> None:
    bus = EventBus(EventStore(sqlite))
    hub = StreamHub(bus)
    write(sqlite, "OLD")
    bus.pump()  # the relay is past OLD; the thread is not started, the test pumps

    async def scenario() -> tuple[int, int, list[list[dict[str, Any]]]]:
        received: list[list[dict[str, Any]]] = [[] for _ in range(STREAMS)]
        tasks = [
            asyncio.create_task(collect(stream_events(hub, after=0), into, until_count=4))
            for into in received
        ]
        await wait_for(lambda: all(len(r) == 1 for r in received))  # each read its backlog
        with outbox_reads(sqlite) as live_reads:
            for n in range(3):
                write(sqlite, "NEW", n=n)
            with outbox_reads(sqlite) as relay_reads:
                await asyncio.to_thread(bus.pump)
            await wait_for(lambda: all(len(r) == 4 for r in received))
        await asyncio.gather(*tasks)
        return len(live_reads), len(relay_reads), received

    live, relay, received = asyncio.run(scenario())
    assert relay == 2  # the page with the 3 new events, then an empty one
    assert live == relay  # the streams themselves ran no query at all
    for stream in received:
        assert [e["event"] for e in stream] == ["OLD", "NEW", "NEW", "NEW"]
        assert [e["payload"]["n"] for e in stream[1:]] == [0, 1, 2]
    assert hub.open_feeds == 0  # every finished stream closed its feed


def test_each_stream_gets_only_its_filter(sqlite: Database) -> None:
    bus = EventBus(EventStore(sqlite))
    hub = StreamHub(bus)
    bus.pump()

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        job_a: list[dict[str, Any]] = []
        typed: list[dict[str, Any]] = []
        tasks = [
            asyncio.create_task(
                collect(
                    stream_events(hub, after=0, job_id="a", until=lambda e: e.type == "END"),
                    job_a,
                )
            ),
            asyncio.create_task(
                collect(stream_events(hub, after=0, types=["X"]), typed, until_count=2)
            ),
        ]
        await wait_for(lambda: hub.open_feeds == 2)
        await asyncio.sleep(0.05)  # both past their (empty) backlog read
        for event_type, job in [("X", "a"), ("Y", "a"), ("X", "b"), ("END", "a"), ("Y", "a")]:
            write(sqlite, event_type, job_id=job)
        await asyncio.to_thread(bus.pump)
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
        return job_a, typed

    job_a, typed = asyncio.run(scenario())
    assert [e["event"] for e in job_a] == ["X", "Y", "END"]  # stops at its terminal event
    assert [(e["event"], e["jobId"]) for e in typed] == [("X", "a"), ("X", "b")]


def test_a_slow_stream_catches_up_from_the_outbox_without_loss_or_duplicates(
    sqlite: Database,
) -> None:
    bus = EventBus(EventStore(sqlite))
    hub = StreamHub(bus, feed_size=3)
    bus.pump()

    async def scenario() -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        stream = stream_events(hub, after=0)
        first = asyncio.create_task(collect(stream, got, until_count=1))
        await wait_for(lambda: hub.open_feeds == 1)
        await asyncio.sleep(0.05)
        write(sqlite, "E", n=0)
        await asyncio.to_thread(bus.pump)
        await first  # the consumer now stops reading while 20 more arrive
        for n in range(1, 21):
            write(sqlite, "E", n=n)
            await asyncio.to_thread(bus.pump)
        await asyncio.sleep(0.05)  # let the pushes land: the 3-slot queue overflowed
        await asyncio.wait_for(collect(stream, got, until_count=21), timeout=10)
        write(sqlite, "E", n=21)  # and live delivery resumes after the catch-up
        await asyncio.to_thread(bus.pump)
        await asyncio.wait_for(collect(stream, got, until_count=22), timeout=10)
        await stream.aclose()
        return got

    got = asyncio.run(scenario())
    assert [e["payload"]["n"] for e in got] == list(range(22))
    assert len({e["id"] for e in got}) == 22
    assert hub.open_feeds == 0


def test_an_idle_stream_sends_keep_alives(sqlite: Database) -> None:
    hub = StreamHub(EventBus(EventStore(sqlite)))

    async def first_chunk() -> str:
        stream = stream_events(hub, after=0, keepalive_s=0.05)
        try:
            return await asyncio.wait_for(anext(stream), timeout=5)
        finally:
            await stream.aclose()

    assert asyncio.run(first_chunk()) == ": keep-alive\n\n"
