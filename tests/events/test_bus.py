"""The relay from the outbox to subscribers, and the Redis publisher."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import redis

from imajin.events.bus import EventBus
from imajin.events.models import Event
from imajin.events.outbox import EventStore, record_event
from imajin.events.redis_bridge import RedisPublisher
from imajin.store.database import Database
from imajin.store.migrate import upgrade


def write(database: Database, event_type: str, **payload: object) -> None:
    with database.session() as session:
        record_event(session, event_type, dict(payload), subject="city-scenes")


def test_subscribers_get_events_in_order_filtered_by_type(database: Database) -> None:
    bus = EventBus(EventStore(database))
    seen: list[tuple[str, int]] = []
    only_b: list[int] = []
    bus.subscribe(lambda e: seen.append((e.type, e.payload["n"])))
    bus.subscribe(lambda e: only_b.append(e.payload["n"]), types=["B"])
    bus.start(from_id=0)
    try:
        for n in range(6):
            write(database, "A" if n % 2 else "B", n=n)
        deadline = time.monotonic() + 10
        while len(seen) < 6:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        bus.stop()
    assert [n for _, n in seen] == list(range(6))
    assert only_b == [0, 2, 4]


def test_a_failing_subscriber_does_not_stop_the_others(database: Database) -> None:
    bus = EventBus(EventStore(database))
    got: list[int] = []

    def broken(_event: Event) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    bus.subscribe(lambda e: got.append(e.id))
    bus.start(from_id=0)
    bus.stop()
    write(database, "X")
    write(database, "Y")
    assert bus.pump() == 2
    assert len(got) == 2


def test_start_without_position_delivers_only_new_events(database: Database) -> None:
    write(database, "OLD")
    bus = EventBus(EventStore(database))
    got: list[str] = []
    bus.subscribe(lambda e: got.append(e.type))
    bus.start()
    bus.stop()
    bus.pump()
    write(database, "NEW")
    bus.pump()
    assert got == ["NEW"]


@pytest.mark.skipif(not os.environ.get("IMAJIN_TEST_REDIS_URL"), reason="needs Redis")
def test_redis_publisher_publishes_each_event(tmp_path: Path) -> None:
    url = os.environ["IMAJIN_TEST_REDIS_URL"]
    database = Database(f"sqlite:///{tmp_path / 'e.db'}")
    upgrade(database)
    channel = f"imajin.events.test.{os.getpid()}"
    listener = redis.Redis.from_url(url).pubsub()
    listener.subscribe(channel)
    listener.get_message(timeout=2)  # the subscribe confirmation
    publisher = RedisPublisher(url, channel=channel)
    bus = EventBus(EventStore(database))
    bus.subscribe(publisher)
    bus.start(from_id=0)
    received: list[dict[str, object]] = []
    try:
        write(database, "IMAGE_VARIATION_QUEUED", variationName="city-scenes")
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            message = listener.get_message(timeout=0.5)
            if message and message["type"] == "message":
                received.append(json.loads(message["data"]))
    finally:
        bus.stop()
        publisher.close()
        listener.close()
        database.dispose()
    assert received[0]["type"] == "IMAGE_VARIATION_QUEUED"
    assert received[0]["payload"] == {"variationName": "city-scenes"}
