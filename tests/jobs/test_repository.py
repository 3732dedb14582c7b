"""Job state transitions in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from imajin.errors import Conflict, NotFound
from imajin.events.models import PREVIEW, JobEvent
from imajin.jobs.models import JobError, JobStatus
from imajin.store.tables import utcnow
from tests.jobs.conftest import PlatformFactory, event_types, noop


def test_creating_a_job_writes_its_queued_event_in_the_same_transaction(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False)
    with pytest.raises(RuntimeError), platform.database.session() as session:
        platform.jobs.repository.insert(session, [noop()], max_attempts=3)
        raise RuntimeError("crash before commit")
    assert platform.jobs.repository.page()[1] == 0
    assert platform.events.after(0) == []
    job = platform.jobs.submit(noop())
    assert event_types(platform, job) == [JobEvent.QUEUED]
    assert platform.jobs.get(job.id).status == JobStatus.QUEUED


def test_claim_order_is_priority_then_fifo(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False)
    low = platform.jobs.submit(noop(priority=-5))
    first = platform.jobs.submit(noop())
    urgent = platform.jobs.submit(noop(priority=10))
    second = platform.jobs.submit(noop())
    repository = platform.jobs.repository
    claimed = [repository.claim_next("w") for _ in range(5)]
    assert [job.id if job else None for job in claimed] == [
        urgent.id,
        first.id,
        second.id,
        low.id,
        None,
    ]


def test_a_job_is_claimed_once_and_finished_once(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False)
    repository = platform.jobs.repository
    job = platform.jobs.submit(noop())
    assert repository.claim(job.id, "w1") is not None
    assert repository.claim(job.id, "w2") is None
    assert repository.begin_attempt(job.id, "w2") is None  # not w2's job
    assert repository.begin_attempt(job.id, "w1") is not None
    assert not repository.finish(job.id, "w2", status=JobStatus.SUCCEEDED, result={})
    assert repository.finish(job.id, "w1", status=JobStatus.SUCCEEDED, result={"ok": 1})
    assert not repository.finish(
        job.id, "w1", status=JobStatus.FAILED, error=JobError(code="x", message="y")
    )
    final = repository.get(job.id)
    assert (final.status, final.result, final.attempts) == (JobStatus.SUCCEEDED, {"ok": 1}, 1)
    assert event_types(platform, job) == [JobEvent.QUEUED, JobEvent.STARTED, JobEvent.SUCCEEDED]


def test_cancel_queued_now_running_later_finished_conflicts(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False)
    repository = platform.jobs.repository
    queued = platform.jobs.submit(noop())
    assert platform.jobs.cancel(queued.id).status == JobStatus.CANCELLED
    assert event_types(platform, queued)[-1] == JobEvent.CANCELLED

    running = platform.jobs.submit(noop())
    repository.claim(running.id, "w")
    flagged = platform.jobs.cancel(running.id)
    assert flagged.status == JobStatus.RUNNING and flagged.cancel_requested
    assert repository.report_progress(running.id, "w", step=1, total=2) is True

    with pytest.raises(Conflict, match="already cancelled") as caught:
        platform.jobs.cancel(queued.id)
    assert caught.value.field == "status"
    with pytest.raises(NotFound):
        platform.jobs.cancel("missing")


def test_lost_worker_requeues_then_fails_past_max_attempts(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False, max_attempts=2)
    repository = platform.jobs.repository
    job = platform.jobs.submit(noop())
    future = utcnow() + timedelta(seconds=1)

    repository.claim(job.id, "elsewhere:1:x:w")
    repository.begin_attempt(job.id, "elsewhere:1:x:w")
    recovered = repository.recover(stale_before=future, dead=lambda _worker: False)
    assert [(j.id, j.status) for j in recovered] == [(job.id, JobStatus.QUEUED)]

    repository.claim(job.id, "elsewhere:1:x:w")
    repository.begin_attempt(job.id, "elsewhere:1:x:w")
    recovered = repository.recover(stale_before=future, dead=lambda _worker: False)
    failed = repository.get(job.id)
    assert failed.status == JobStatus.FAILED and failed.attempts == 2
    assert failed.error is not None and failed.error.code == "worker_lost"
    assert event_types(platform, job).count(JobEvent.REQUEUED) == 1


def test_a_job_released_before_its_handler_started_keeps_its_attempts(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False, max_attempts=1)
    repository = platform.jobs.repository
    job = platform.jobs.submit(noop())
    future = utcnow() + timedelta(seconds=1)
    for _restart in range(3):  # claimed, then the worker died before the model even loaded
        assert repository.claim(job.id, "elsewhere:1:x:w") is not None
        repository.recover(stale_before=future, dead=lambda _worker: False)
        again = repository.get(job.id)
        assert (again.status, again.attempts) == (JobStatus.QUEUED, 0)

    repository.claim(job.id, "elsewhere:1:x:w")
    started = repository.begin_attempt(job.id, "elsewhere:1:x:w")
    assert started is not None and started.attempts == 1
    repository.recover(stale_before=future, dead=lambda _worker: False)
    lost = repository.get(job.id)
    assert (lost.status, lost.attempts) == (JobStatus.FAILED, 1)  # the one attempt it had


def test_fresh_heartbeat_is_not_recovered(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False)
    repository = platform.jobs.repository
    job = platform.jobs.submit(noop())
    repository.claim(job.id, "elsewhere:1:x:w")
    past = utcnow() - timedelta(seconds=30)
    assert repository.recover(stale_before=past, dead=lambda _worker: False) == []
    assert repository.get(job.id).status == JobStatus.RUNNING


def test_list_filters_and_paginates(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False)
    ids = [platform.jobs.submit(noop()).id for _ in range(5)]
    platform.jobs.cancel(ids[0])
    page, total = platform.jobs.repository.page(status=JobStatus.QUEUED, limit=2, offset=1)
    assert total == 4
    assert [job.id for job in page] == [ids[3], ids[2]]  # newest first


def test_a_preview_replaces_the_last_and_the_end_of_the_job_removes_it(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False)
    repository = platform.jobs.repository
    job = platform.jobs.submit(noop())
    repository.claim(job.id, "w1")
    repository.begin_attempt(job.id, "w1")
    repository.report_preview(job.id, "w1", {"step": 1, "dataUrl": "data:,a"})
    repository.report_preview(job.id, "w1", {"step": 2, "dataUrl": "data:,b"})
    repository.report_preview(job.id, "w2", {"step": 3, "dataUrl": "data:,c"})  # not w2's job
    previews = [e for e in platform.events.after(0, job_id=job.id) if e.type == PREVIEW]
    assert [(e.payload["step"], e.payload["status"]) for e in previews] == [(2, "running")]
    assert repository.finish(job.id, "w1", status=JobStatus.SUCCEEDED, result={})
    assert event_types(platform, job) == [JobEvent.QUEUED, JobEvent.STARTED, JobEvent.SUCCEEDED]


def test_a_lost_workers_preview_goes_with_its_attempt(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False)
    repository = platform.jobs.repository
    job = platform.jobs.submit(noop())
    repository.claim(job.id, "w1")
    repository.begin_attempt(job.id, "w1")
    repository.report_preview(job.id, "w1", {"step": 1, "dataUrl": "data:,a"})
    recovered = repository.recover(
        stale_before=utcnow() + timedelta(seconds=1), dead=lambda _: True
    )
    assert [one.status for one in recovered] == [JobStatus.QUEUED]
    assert PREVIEW not in event_types(platform, job)
