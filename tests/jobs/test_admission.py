"""Bounded queues: 429 with a sane Retry-After, nothing half-created, no overshoot."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event

from imajin.errors import InvalidInput, Overloaded
from imajin.jobs.admission import FULL_REMEMBERED_S
from imajin.jobs.models import JobSpec, JobStatus
from imajin.store.tables import JobRow
from tests.jobs.conftest import PlatformFactory, noop


def test_full_queue_raises_overloaded_and_writes_nothing(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False, default_capacity=3, retry_after_default_s=4)
    platform.jobs.submit_many([noop(), noop()])
    before_events = platform.events.last_id()
    with pytest.raises(Overloaded) as caught:
        platform.jobs.submit_many([noop(), noop()])  # one place left, two asked for
    assert caught.value.retry_after == 4
    assert "'default' is full" in caught.value.message
    assert platform.jobs.repository.page()[1] == 2
    assert platform.events.last_id() == before_events
    platform.jobs.submit(noop())  # the one free place is still there


def test_queues_are_bounded_separately(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False, default_capacity=1)
    platform.jobs.submit(noop(queue="chat"))
    platform.jobs.submit(noop(queue="scenes"))
    with pytest.raises(Overloaded):
        platform.jobs.submit(noop(queue="chat"))


def test_finished_jobs_free_their_place(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False, default_capacity=1)
    job = platform.jobs.submit(noop())
    platform.jobs.cancel(job.id)
    platform.jobs.submit(noop())


def test_concurrent_submits_never_overshoot_capacity(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False, default_capacity=5)
    admitted: list[str] = []
    rejected: list[int] = []
    lock = threading.Lock()

    def submit() -> None:
        try:
            job = platform.jobs.submit(noop())
            with lock:
                admitted.append(job.id)
        except Overloaded:
            with lock:
                rejected.append(1)

    threads = [threading.Thread(target=submit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 5 and len(rejected) == 7
    assert platform.jobs.repository.page(status=JobStatus.QUEUED)[1] == 5


def test_retry_after_follows_recent_durations_and_is_capped(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False, workers=2, retry_after_max_s=60)
    repository = platform.jobs.repository
    for seconds in (10, 12, 14):
        job = platform.jobs.submit(noop())
        repository.claim(job.id, "w")
        repository.finish(job.id, "w", status=JobStatus.SUCCEEDED, result={})
        with platform.database.session() as session:  # pretend the run took `seconds`
            row = session.get(JobRow, job.id)
            assert row is not None and row.finished_at is not None
            row.started_at = row.finished_at - timedelta(seconds=seconds)
    assert platform.jobs.admission.retry_after("default", depth=4) == 24  # 12 s × 4 / 2
    assert platform.jobs.admission.retry_after("default", depth=100) == 60


def test_unknown_kind_is_rejected_before_anything_is_queued(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False)
    with pytest.raises(InvalidInput, match=r"known kinds: .*noop"):
        platform.jobs.submit_many([noop(), JobSpec(kind="paint")])
    assert platform.jobs.repository.page()[1] == 0


def test_check_room_refuses_a_full_queue_early_from_one_count(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False, default_capacity=1, retry_after_default_s=6)
    job = platform.jobs.submit(noop())
    admission = platform.jobs.admission
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    sa_event.listen(platform.database.engine, "before_cursor_execute", count)
    try:
        for _ in range(20):
            with pytest.raises(Overloaded) as caught:
                admission.check_room("default")
            assert caught.value.retry_after == 6
        counts = [s for s in statements if "count(" in s.lower()]
        assert len(counts) == 1  # the burst was refused from the first count
        statements.clear()
        platform.jobs.cancel(job.id)
        time.sleep(FULL_REMEMBERED_S)  # the remembered "full" expires: counted again
        admission.check_room("default")
        assert any("count(" in s.lower() for s in statements)
    finally:
        sa_event.remove(platform.database.engine, "before_cursor_execute", count)
    platform.jobs.submit(noop())  # check_room writes nothing: the place is still free
    with pytest.raises(Overloaded):
        platform.jobs.submit(noop())  # admit() decides under the lock, as before
