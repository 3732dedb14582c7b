"""The embedded dispatcher: worker threads run jobs, honour cancels, record failures."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy.orm import Session

from imajin.errors import InvalidInput
from imajin.events.models import JobEvent
from imajin.events.outbox import record_event
from imajin.jobs.handlers import JobContext, noop_handler
from imajin.jobs.models import Job, JobSpec, JobStatus
from imajin.store.tables import utcnow
from imajin.wiring import Platform
from tests.jobs.conftest import PlatformFactory, event_types, noop


def wait_for_status(
    platform: Platform, job_id: str, status: JobStatus, timeout: float = 20
) -> None:
    deadline = time.monotonic() + timeout
    while platform.jobs.get(job_id).status != status:
        assert time.monotonic() < deadline, f"job never became {status}"
        time.sleep(0.02)


def test_jobs_run_to_completion_with_events_in_order(make_platform: PlatformFactory) -> None:
    platform = make_platform(workers=2)
    jobs = platform.jobs.submit_many([noop(steps=3), noop(steps=1), noop(steps=2)])
    for job in jobs:
        done = platform.jobs.wait(job.id, timeout_s=20)
        assert done.status == JobStatus.SUCCEEDED
        assert done.result == {"steps": job.params["steps"], "attempt": 1, "batchSize": 1}
        types = event_types(platform, job)
        assert types[:2] == [JobEvent.QUEUED, JobEvent.STARTED]
        assert types[-1] == JobEvent.SUCCEEDED
        assert set(types[2:-1]) <= {JobEvent.PROGRESS}


def test_higher_priority_runs_first_on_a_busy_worker(make_platform: PlatformFactory) -> None:
    platform = make_platform(workers=1)
    blocker = platform.jobs.submit(noop(steps=1, sleep_s=0.5))
    wait_for_status(platform, blocker.id, JobStatus.RUNNING)
    low = platform.jobs.submit(noop(priority=1))
    high = platform.jobs.submit(noop(priority=9))
    low_done = platform.jobs.wait(low.id)
    high_done = platform.jobs.wait(high.id)
    assert high_done.started_at is not None and low_done.started_at is not None
    assert high_done.started_at < low_done.started_at


def test_running_job_is_cancelled_between_steps(make_platform: PlatformFactory) -> None:
    platform = make_platform(workers=1)
    job = platform.jobs.submit(noop(steps=200, sleep_s=0.02))
    wait_for_status(platform, job.id, JobStatus.RUNNING)
    platform.jobs.cancel(job.id)
    done = platform.jobs.wait(job.id)
    assert done.status == JobStatus.CANCELLED
    assert done.progress.step < 200
    assert event_types(platform, job).count(JobEvent.CANCELLED) == 1


def test_handler_errors_fail_the_job_with_code_and_message(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False, workers=1)

    def explode(_ctx: JobContext) -> None:
        raise ZeroDivisionError("division by zero in the handler")

    platform.handlers.register("explode", explode)
    platform.start()
    refused = platform.jobs.submit(noop(fail=True))
    crashed = platform.jobs.submit(JobSpec(kind="explode"))
    refused_done = platform.jobs.wait(refused.id)
    crashed_done = platform.jobs.wait(crashed.id)
    assert refused_done.status == JobStatus.FAILED and refused_done.error is not None
    assert (refused_done.error.code, refused_done.error.message) == (
        InvalidInput.code,
        "noop job asked to fail",
    )
    assert crashed_done.error is not None and crashed_done.error.code == "handler_error"
    assert "ZeroDivisionError" in crashed_done.error.message
    # A failed job is never left running, and the next job still runs.
    assert platform.jobs.wait(platform.jobs.submit(noop()).id).status == JobStatus.SUCCEEDED


def test_success_writes_commit_with_the_final_state(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False, workers=1)

    def with_domain_event(ctx: JobContext) -> dict[str, str]:
        ctx.on_success(
            lambda session: record_event(
                session, "THING_HAPPENED", {"n": 1}, job_id=ctx.job.id, subject="thing"
            )
        )
        return {"ok": "yes"}

    platform.handlers.register("domain", with_domain_event)
    platform.start()
    job = platform.jobs.submit(JobSpec(kind="domain"))
    assert platform.jobs.wait(job.id).result == {"ok": "yes"}
    assert "THING_HAPPENED" in event_types(platform, job)


def test_every_unsuccessful_end_runs_the_kinds_settle_hook_in_its_transaction(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False, workers=1, max_attempts=1)
    settled: list[tuple[str, str]] = []

    def settle(session: Session, job: Job) -> None:
        # Written in the final transaction: the event exists exactly when the job ended.
        record_event(session, "DEPENDENT_SETTLED", {"status": job.status}, job_id=job.id)
        settled.append((job.id, job.status))

    def explode(_ctx: JobContext) -> None:
        raise ZeroDivisionError("escapes the handler")

    platform.handlers.register("settled", explode, settle=settle)
    repository = platform.jobs.repository

    queued = platform.jobs.submit(JobSpec(kind="settled"))
    platform.jobs.cancel(queued.id)  # cancelled while queued: no handler ever ran

    lost = platform.jobs.submit(JobSpec(kind="settled"))
    repository.claim(lost.id, "elsewhere:1:x:w")
    repository.begin_attempt(lost.id, "elsewhere:1:x:w")
    repository.recover(stale_before=utcnow() + timedelta(seconds=1), dead=lambda _w: False)

    platform.start()
    crashed = platform.jobs.submit(JobSpec(kind="settled"))
    assert platform.jobs.wait(crashed.id).status == JobStatus.FAILED

    assert settled == [
        (queued.id, JobStatus.CANCELLED),
        (lost.id, JobStatus.FAILED),
        (crashed.id, JobStatus.FAILED),
    ]
    for job in (queued, lost, crashed):
        assert event_types(platform, job).count("DEPENDENT_SETTLED") == 1
    # Success is the handler's to settle (ctx.on_success); the hook stays out of it.
    assert platform.jobs.wait(platform.jobs.submit(noop()).id).status == JobStatus.SUCCEEDED


def test_a_failing_settle_hook_still_lets_the_job_end(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False, workers=1)

    def broken(session: Session, job: Job) -> None:
        record_event(session, "HALF_WRITTEN", {}, job_id=job.id)
        raise RuntimeError("bug in a settle hook")

    platform.handlers.register("broken", noop_handler, settle=broken)
    job = platform.jobs.submit(JobSpec(kind="broken"))
    assert platform.jobs.cancel(job.id).status == JobStatus.CANCELLED
    assert platform.jobs.get(job.id).status == JobStatus.CANCELLED
    assert "HALF_WRITTEN" not in event_types(platform, job)  # its savepoint rolled back
