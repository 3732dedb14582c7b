"""Retention: old finished jobs and old events go; active jobs, their events and
unrelayed events stay. On the real store (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from imajin.config.loader import load_settings
from imajin.events.outbox import record_event
from imajin.jobs.deliver_once import DeliverOnce
from imajin.jobs.models import JobSpec, JobStatus
from imajin.retention import RetentionSweeper
from imajin.store.database import Database
from imajin.store.migrate import upgrade
from imajin.store.tables import BatchRow, EventRow, JobRow, utcnow
from imajin.wiring import Platform, build_platform

OLD = timedelta(days=40)  # past both 30-day defaults
RECENT = timedelta(days=1)


@pytest.fixture
def platform(tmp_path: Path, database: Database) -> Iterator[Platform]:
    settings = load_settings(environ={"IMAJIN_DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path)
    platform = build_platform(settings, database=database)
    yield platform
    platform.close()


def job(platform: Platform, status: JobStatus, *, age: timedelta, group: str | None = None) -> str:
    """A noop job in ``status`` whose timestamps (and events) are ``age`` old."""
    created = platform.jobs.submit(JobSpec(kind="noop", group_id=group))
    at = utcnow() - age
    finished = at if status.finished else None
    with platform.database.session() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == created.id)
            .values(status=status.value, created_at=at, updated_at=at, finished_at=finished)
        )
        session.execute(update(EventRow).where(EventRow.job_id == created.id).values(created_at=at))
    return created.id


def loose_event(platform: Platform, *, age: timedelta) -> int:
    with platform.database.session() as session:
        record_event(session, "STUDIO_CONFIG_CHANGED", {})
    event_id = platform.events.last_id()
    with platform.database.session() as session:
        session.execute(
            update(EventRow).where(EventRow.id == event_id).values(created_at=utcnow() - age)
        )
    return event_id


def sweeper(platform: Platform, *, relayed: int | None, days: int = 30) -> RetentionSweeper:
    return RetentionSweeper(
        jobs=platform.jobs.repository,
        events=platform.events,
        relayed_through=lambda: relayed,
        history_days=days,
        retention_days=days,
    )


def job_ids(platform: Platform) -> set[str]:
    with platform.database.session() as session:
        return set(session.scalars(select(JobRow.id)))


def event_job_ids(platform: Platform) -> set[str | None]:
    return {event.job_id for event in platform.events.after(0, limit=10_000)}


def test_old_finished_jobs_go_active_and_recent_ones_stay(platform: Platform) -> None:
    with platform.database.session() as session:
        session.add(
            BatchRow(
                id="batch1", set_name="tarot", user_theme="x", output_dir="batch_1",
                total=1, model="m", seed=1,
            )
        )  # fmt: skip
    gone = {job(platform, status, age=OLD) for status in JobStatus if status.finished}
    kept = {
        job(platform, JobStatus.QUEUED, age=OLD),
        job(platform, JobStatus.RUNNING, age=OLD),
        job(platform, JobStatus.SUCCEEDED, age=RECENT),
        job(platform, JobStatus.FAILED, age=OLD, group="batch1"),  # its batch still exists
    }
    pruned = sweeper(platform, relayed=platform.events.last_id()).sweep()
    assert pruned.jobs == len(gone) == 3
    assert job_ids(platform) == kept


def test_old_events_go_except_active_jobs_and_unrelayed(platform: Platform) -> None:
    finished = job(platform, JobStatus.SUCCEEDED, age=OLD)
    queued = job(platform, JobStatus.QUEUED, age=OLD)
    running = job(platform, JobStatus.RUNNING, age=OLD)
    recent = job(platform, JobStatus.CANCELLED, age=RECENT)
    loose_event(platform, age=OLD)
    relayed = platform.events.last_id()
    unrelayed = loose_event(platform, age=OLD)  # the relay has not delivered it yet
    pruned = sweeper(platform, relayed=relayed).sweep()
    assert pruned.events == 2  # the finished job's QUEUED event and the old loose one
    assert event_job_ids(platform) == {queued, running, recent, None}
    assert [e.id for e in platform.events.after(0) if e.job_id is None] == [unrelayed]
    assert finished not in job_ids(platform)


def test_nothing_is_pruned_while_the_relay_position_is_unknown_or_days_are_0(
    platform: Platform,
) -> None:
    job(platform, JobStatus.SUCCEEDED, age=OLD)
    loose_event(platform, age=OLD)
    assert sweeper(platform, relayed=None).sweep().events == 0
    assert sweeper(platform, relayed=platform.events.last_id(), days=0).sweep().jobs == 0
    assert len(platform.events.after(0)) == 2


def test_large_backlogs_are_deleted_in_batches(platform: Platform) -> None:
    for _ in range(5):
        job(platform, JobStatus.SUCCEEDED, age=OLD)
    before = utcnow() - timedelta(days=30)
    assert platform.jobs.repository.prune_finished(finished_before=before, batch_size=2) == 5
    assert platform.events.prune(before=before, relayed_through=10**9, batch_size=2) == 5
    assert job_ids(platform) == set() and platform.events.after(0) == []


def test_the_sweeper_thread_prunes_in_the_background(platform: Platform) -> None:
    job(platform, JobStatus.SUCCEEDED, age=OLD)
    background = RetentionSweeper(
        jobs=platform.jobs.repository,
        events=platform.events,
        relayed_through=platform.events.last_id,
        history_days=30,
        retention_days=30,
        interval_s=0.05,
        first_after_s=0.0,
    )
    background.start()
    try:
        deadline = time.monotonic() + 10
        while job_ids(platform) or platform.events.after(0):
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        background.stop()


def test_platform_start_runs_retention_from_settings(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "IMAJIN_DATA_DIR": str(tmp_path / "data"),
            "IMAJIN_JOBS__HISTORY_DAYS": "7",
            "IMAJIN_EVENTS__RETENTION_DAYS": "0",
        },
        cwd=tmp_path,
    )
    assert settings.jobs.history_days == 7 and settings.events.retention_days == 0
    platform = build_platform(settings)
    try:
        upgrade(platform.database)
        platform.start()
        assert platform.retention.running  # started with the rest of the background work
    finally:
        platform.close()
    assert not platform.retention.running


def test_the_sweeper_thread_forgets_unread_deliver_once_keys_even_with_no_retention(
    platform: Platform,
) -> None:
    repository = platform.jobs.repository
    created = platform.jobs.submit(JobSpec(kind="noop"))
    assert repository.claim(created.id, "w") and repository.begin_attempt(created.id, "w")
    once = DeliverOnce(keys=("features",), ttl_s=0.01)
    result = {"features": {"eye_colour": "hazel"}}
    assert repository.finish(
        created.id, "w", status=JobStatus.SUCCEEDED, result=result, deliver_once=once
    )
    background = RetentionSweeper(
        jobs=repository,
        events=platform.events,
        relayed_through=platform.events.last_id,
        history_days=0,
        retention_days=0,
        forget_interval_s=0.05,
    )
    background.start()
    try:
        deadline = time.monotonic() + 10
        while repository.get(created.id).deliver_until is not None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        background.stop()
    stored = repository.get(created.id).result
    assert stored is not None and stored["features"] is None
    assert job_ids(platform) == {created.id}  # no retention: the job itself stays
