"""Deliver-once result keys in the store, on SQLite and PostgreSQL: the first reader (or
waiter) gets them and the row forgets them; unread ones go at their deadline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from imajin.jobs.deliver_once import DeliverOnce
from imajin.jobs.models import JobStatus
from imajin.store.tables import JobRow, utcnow
from imajin.wiring import Platform
from tests.jobs.conftest import PlatformFactory, noop

SECRET = {"secret": "hazel", "kept": 1}
ONCE = DeliverOnce(keys=("secret",), ttl_s=60.0)


def succeeded(platform: Platform, *, once: DeliverOnce | None = ONCE) -> str:
    """A job run by hand to success with ``SECRET`` as its result."""
    repository = platform.jobs.repository
    job = platform.jobs.submit(noop())
    assert repository.claim(job.id, "w") is not None
    assert repository.begin_attempt(job.id, "w") is not None
    assert repository.finish(
        job.id, "w", status=JobStatus.SUCCEEDED, result=dict(SECRET), deliver_once=once
    )
    return job.id


def row_result(platform: Platform, job_id: str) -> dict[str, Any] | None:
    with platform.database.session() as session:
        return session.scalar(select(JobRow.result).where(JobRow.id == job_id))


def test_the_first_read_gets_the_keys_and_the_row_forgets_them(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False)
    job_id = succeeded(platform)
    stored = row_result(platform, job_id)
    assert stored is not None and stored["secret"] == "hazel"  # until someone reads it
    assert platform.jobs.page()[0][0].without_undelivered().result == {
        "secret": None,
        "kept": 1,
        "deliverOnce": ["secret"],
    }
    first = platform.jobs.wait(job_id, timeout_s=1)  # a waiter is its reader
    assert first.result is not None and first.result["secret"] == "hazel"
    assert row_result(platform, job_id) == {"secret": None, "kept": 1, "deliverOnce": ["secret"]}
    later = platform.jobs.deliver(job_id)
    assert later.result is not None and later.result["secret"] is None


def test_unread_keys_go_at_their_deadline_and_a_late_read_misses_them(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False)
    late, unread, plain = succeeded(platform), succeeded(platform), succeeded(platform, once=None)
    deadline = utcnow() + timedelta(seconds=ONCE.ttl_s + 1)
    missed = platform.jobs.repository.deliver(late, now=deadline)
    assert missed.result is not None and missed.result["secret"] is None
    repository = platform.jobs.repository
    assert repository.forget_undelivered(now=utcnow()) == 0  # not due yet
    assert repository.forget_undelivered(now=deadline, batch_size=1) == 1
    assert row_result(platform, unread) == {"secret": None, "kept": 1, "deliverOnce": ["secret"]}
    assert row_result(platform, plain) == SECRET  # a job without deliver-once keeps its result
    assert platform.jobs.deliver(plain).result == SECRET
