"""Job-level batching: a worker claims queued jobs of one shape together and runs them in one
call, each with its own attempt, progress, cancel and final state (on SQLite and PostgreSQL).

The ``noop`` kind batches jobs of equal steps, sleep and ``batch`` (its limit), so these
tests need no model; the studio kinds' batching is tested in tests/studio/test_batched_jobs.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from imajin.events.models import JobEvent
from imajin.jobs.handlers import BatchRule, JobContext, Outcome
from imajin.jobs.models import Job, JobSpec, JobStatus
from imajin.wiring import Platform
from tests.jobs.conftest import PlatformFactory, event_types, noop


def shape(job: Job) -> tuple[int, int]:
    return job.params.get("steps", 1), job.params.get("batch", 1)


def test_companions_are_claimed_by_shape_route_and_priority(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False)
    repository = platform.jobs.repository
    first, low, other_steps, high, late = platform.jobs.submit_many(
        [
            noop(steps=2, batch=3),
            noop(steps=2, batch=3, priority=-5),
            noop(steps=1, batch=3),  # another shape
            noop(steps=2, batch=3, priority=5),
            noop(steps=2, batch=3),
        ]
    )
    elsewhere = platform.jobs.submit(noop(steps=2, batch=3).model_copy(update={"route": "other"}))
    claimed = repository.claim(first.id, "w1")
    assert claimed is not None

    companions = repository.claim_companions(
        claimed,
        "w1",
        kinds=["noop"],
        fits=lambda job: shape(job) == shape(claimed),
        limit=2,
    )
    # Highest priority first, then oldest; never another shape or another route.
    assert [job.id for job in companions] == [high.id, late.id]
    assert all(job.status == JobStatus.RUNNING and job.worker_id == "w1" for job in companions)
    for job in (low, other_steps, elsewhere):
        assert platform.jobs.get(job.id).status == JobStatus.QUEUED
    # A claimed companion is no one else's: neither another gather nor a Celery message's claim.
    again = repository.claim_companions(
        claimed, "w2", kinds=["noop"], fits=lambda job: True, limit=10
    )
    assert {job.id for job in again} == {low.id, other_steps.id}
    assert repository.claim(high.id, "w2") is None


def test_a_worker_runs_jobs_of_one_shape_as_one_batch(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False, workers=1)
    jobs = platform.jobs.submit_many(
        [noop(steps=3, batch=3) for _ in range(4)] + [noop(steps=2, batch=3)]
    )
    platform.start()
    done = [platform.jobs.wait(job.id, timeout_s=30) for job in jobs]
    assert all(job.status == JobStatus.SUCCEEDED for job in done)
    # Three of the same shape ran together (the limit), the fourth after them; the job of
    # another shape never joined them. (Jobs queued in one call share their time stamp, so
    # which three is the store's choice.)
    sizes = [job.result["batchSize"] for job in done if job.result]
    assert sorted(sizes[:4]) == [1, 3, 3, 3] and sizes[4] == 1
    for job in done:
        assert job.attempts == 1 and job.progress.step == job.progress.total
        types = event_types(platform, job)
        assert types.count(JobEvent.STARTED) == types.count(JobEvent.SUCCEEDED) == 1


def test_a_failing_or_cancelled_job_leaves_its_batch_neighbours_whole(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False, workers=1)
    steady, failing, cancelled, last = platform.jobs.submit_many(
        [
            noop(steps=20, sleep_s=0.1, batch=4),
            noop(steps=20, sleep_s=0.1, batch=4, fail=True),
            noop(steps=20, sleep_s=0.1, batch=4),
            noop(steps=20, sleep_s=0.1, batch=4),
        ]
    )
    platform.start()
    deadline = time.monotonic() + 20
    while platform.jobs.get(cancelled.id).progress.step < 1:
        assert time.monotonic() < deadline, "the batch never started"
        time.sleep(0.02)
    platform.jobs.cancel(cancelled.id)  # mid-batch: its neighbours are at the same step

    outcomes = {job.id: platform.jobs.wait(job.id, timeout_s=30) for job in (steady, last)}
    assert all(job.status == JobStatus.SUCCEEDED for job in outcomes.values())
    assert all(job.result and job.result["batchSize"] == 4 for job in outcomes.values())
    failed = platform.jobs.wait(failing.id, timeout_s=30)
    assert failed.status == JobStatus.FAILED and failed.error is not None
    assert failed.error.code == "invalid_input"
    stopped = platform.jobs.wait(cancelled.id, timeout_s=30)
    assert stopped.status == JobStatus.CANCELLED
    assert stopped.progress.step < 20


def test_two_workers_never_run_a_job_twice(make_platform: PlatformFactory) -> None:
    platform = make_platform(start=False, workers=2)
    jobs = platform.jobs.submit_many([noop(steps=2, sleep_s=0.01, batch=3) for _ in range(9)])
    platform.start()
    done = [platform.jobs.wait(job.id, timeout_s=30) for job in jobs]
    assert all(job.status == JobStatus.SUCCEEDED and job.attempts == 1 for job in done)
    for job in done:
        assert event_types(platform, job).count(JobEvent.STARTED) == 1
    # Every job ran in a batch no larger than the limit.
    assert all(job.result and 1 <= job.result["batchSize"] <= 3 for job in done)


def test_a_message_payload_reaches_its_own_job_once_never_a_companion(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False, workers=0)
    taken: dict[str, list[bytes | None]] = {}

    def run(contexts: Sequence[JobContext]) -> list[Outcome]:
        for ctx in contexts:
            taken[ctx.job.id] = [ctx.take_payload(), ctx.take_payload()]
        return [{} for _ in contexts]

    rule = BatchRule(group="carried", key=lambda job: "one", limit=lambda job: 3, run=run)
    platform.handlers.register("carried", lambda ctx: None, batch=rule)
    first, *others = platform.jobs.submit_many(
        [JobSpec(kind="carried", params={}) for _ in range(3)]
    )

    assert platform.runner.run_by_id(first.id, "worker-1", payload=b"bytes of the message")

    assert taken[first.id] == [b"bytes of the message", None]  # handed over once
    assert [taken[job.id] for job in others] == [[None, None], [None, None]]
    assert all(platform.jobs.get(job.id).status == JobStatus.SUCCEEDED for job in others)


def gather_in_background(platform: Platform, job: Job, *, gather_s: float) -> threading.Thread:
    """Run ``job`` as a Celery message would (claim, gather for ``gather_s``, run) in a thread."""
    thread = threading.Thread(
        target=platform.runner.run_by_id, args=(job.id, "worker-1"), kwargs={"gather_s": gather_s}
    )
    thread.start()
    return thread


def wait_for_status(platform: Platform, job: Job, status: JobStatus) -> None:
    deadline = time.monotonic() + 20
    while platform.jobs.get(job.id).status != status:
        assert time.monotonic() < deadline, f"job {job.id} never became {status}"
        time.sleep(0.01)


def test_a_job_cancelled_while_its_batch_gathers_gives_its_place_to_a_waiting_one(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False, workers=0)
    lead, cancelled = platform.jobs.submit_many([noop(steps=2, batch=3) for _ in range(2)])
    gathering = gather_in_background(platform, lead, gather_s=10)
    wait_for_status(platform, cancelled, JobStatus.RUNNING)  # claimed into the lead's batch
    platform.jobs.cancel(cancelled.id)
    arrivals = platform.jobs.submit_many([noop(steps=2, batch=3) for _ in range(2)])
    gathering.join(timeout=30)
    assert not gathering.is_alive()

    # Dropped before any handler started: cancelled, no attempt counted, never rendered.
    stopped = platform.jobs.get(cancelled.id)
    assert stopped.status == JobStatus.CANCELLED and stopped.attempts == 0
    types = event_types(platform, stopped)
    assert types.count(JobEvent.CANCELLED) == 1 and JobEvent.PROGRESS not in types
    # Its place went to a job queued meanwhile: the batch is full with live jobs only.
    for job in (lead, *arrivals):
        done = platform.jobs.get(job.id)
        assert done.status == JobStatus.SUCCEEDED and done.attempts == 1
        assert done.result is not None and done.result["batchSize"] == 3


def test_a_lead_cancelled_while_gathering_ends_cancelled_and_its_batch_runs_smaller(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False, workers=0)
    lead, companion = platform.jobs.submit_many([noop(steps=2, batch=3) for _ in range(2)])
    gathering = gather_in_background(platform, lead, gather_s=1.5)
    wait_for_status(platform, companion, JobStatus.RUNNING)
    platform.jobs.cancel(lead.id)  # the job whose message the worker took
    gathering.join(timeout=30)
    assert not gathering.is_alive()

    stopped = platform.jobs.get(lead.id)
    assert stopped.status == JobStatus.CANCELLED and stopped.attempts == 0
    assert JobEvent.PROGRESS not in event_types(platform, stopped)
    # No compatible job was waiting: the companion runs without the lead's place.
    done = platform.jobs.get(companion.id)
    assert done.status == JobStatus.SUCCEEDED and done.attempts == 1
    assert done.result is not None and done.result["batchSize"] == 1
