"""A lost worker's message, re-delivered with its payload, gets its re-queued job.

The pump holds back re-queued jobs of kinds whose messages carry a payload, and a
re-delivered message with a payload waits for the reaper instead of being dropped.
(Real Celery workers killed mid-job: tests/profile/test_profile_celery.py.)
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from imajin.config.jobs import CelerySettings
from imajin.jobs.models import JobStatus
from imajin.jobs.redelivery import LostWorkerWait, claim_after_lost_worker
from imajin.store.tables import utcnow
from tests.jobs.conftest import PlatformFactory, noop

DEAD = "elsewhere:1:x:w1"  # a worker on another host: judged by its heartbeat only


def _never_dead(_worker: str) -> bool:
    return False


def test_the_pump_holds_a_requeued_job_of_a_payload_kind_until_its_wait_passes(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False)
    repository = platform.jobs.repository
    requeued = platform.jobs.submit(noop())
    never_sent = platform.jobs.submit(noop())
    repository.claim(requeued.id, DEAD)
    repository.begin_attempt(requeued.id, DEAD)
    recovered = repository.recover(stale_before=utcnow() + timedelta(1), dead=_never_dead)
    assert [job.status for job in recovered] == [JobStatus.QUEUED]

    def sent(*, held: list[str], requeued_s_ago: float) -> set[str]:
        before = utcnow() - timedelta(seconds=requeued_s_ago)
        jobs = repository.undispatched(held_kinds=held, requeued_before=before)
        return {job.id for job in jobs}

    # Its first message is the broker's to return; a job never sent is sent at once.
    assert sent(held=["noop"], requeued_s_ago=60) == {never_sent.id}
    assert sent(held=["other"], requeued_s_ago=60) == {requeued.id, never_sent.id}
    # None came back in time: sent again (without its payload).
    assert sent(held=["noop"], requeued_s_ago=-1) == {requeued.id, never_sent.id}
    assert {job.id for job in repository.undispatched()} == {requeued.id, never_sent.id}


def test_a_redelivered_message_claims_its_job_once_the_reaper_requeues_it(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False)
    repository = platform.jobs.repository
    job = platform.jobs.submit(noop())
    repository.claim(job.id, DEAD)
    repository.begin_attempt(job.id, DEAD)

    def reap_soon() -> None:
        time.sleep(0.5)
        repository.recover(stale_before=utcnow() + timedelta(1), dead=_never_dead)

    reaper = threading.Thread(target=reap_soon)
    reaper.start()
    claimed = claim_after_lost_worker(
        repository, job.id, "w2", wait=LostWorkerWait(wait_s=10, beat_s=0.1)
    )
    reaper.join()

    assert claimed is not None and claimed.worker_id == "w2"
    assert repository.get(job.id).status == JobStatus.RUNNING
    assert repository.claim(job.id, "w3") is None  # the re-sent message finds it taken


def test_a_redelivered_message_of_a_job_whose_worker_beats_on_is_dropped_soon(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False)
    repository = platform.jobs.repository
    job = platform.jobs.submit(noop())
    repository.claim(job.id, "alive:1:x:w1")
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(0.1):
            repository.heartbeat([job.id], "alive:1:x:w1")

    beating = threading.Thread(target=beat)
    beating.start()
    started = time.monotonic()
    try:
        claimed = claim_after_lost_worker(
            repository, job.id, "w2", wait=LostWorkerWait(wait_s=30, beat_s=0.1)
        )
    finally:
        stop.set()
        beating.join()

    assert claimed is None
    assert time.monotonic() - started < 5  # seen alive in a few beats, not after wait_s
    assert repository.get(job.id).worker_id == "alive:1:x:w1"


def test_a_redelivered_message_gives_up_on_a_job_never_requeued_or_already_done(
    make_platform: PlatformFactory,
) -> None:
    platform = make_platform(start=False)
    repository = platform.jobs.repository
    stuck = platform.jobs.submit(noop())
    repository.claim(stuck.id, DEAD)
    started = time.monotonic()
    wait = LostWorkerWait(wait_s=0.6, beat_s=0.1)
    assert claim_after_lost_worker(repository, stuck.id, "w2", wait=wait) is None
    assert 0.6 <= time.monotonic() - started < 5  # bounded: never a hang
    assert repository.get(stuck.id).worker_id == DEAD

    done = platform.jobs.submit(noop())
    repository.claim(done.id, "w1")
    repository.finish(done.id, "w1", status=JobStatus.SUCCEEDED, result={})
    started = time.monotonic()
    assert claim_after_lost_worker(repository, done.id, "w2", wait=wait) is None
    assert time.monotonic() - started < 0.5


def test_the_redelivery_wait_defaults_to_when_the_broker_returns_messages() -> None:
    assert CelerySettings(broker_url="amqp://guest@host//").redelivery_wait() == 30
    # Redis returns a message after its visibility timeout, swept within 10 s of it.
    assert (
        CelerySettings(broker_url="redis://host/0", visibility_timeout_s=5).redelivery_wait() == 10
    )
    assert (
        CelerySettings(broker_url="redis://host/0", visibility_timeout_s=60).redelivery_wait() == 70
    )
    # Too late to keep a client waiting for: sent again at once, as before.
    assert CelerySettings(broker_url="redis://host/0").redelivery_wait() == 0
    explicit = CelerySettings(broker_url="redis://host/0", redelivery_wait_s=45)
    assert explicit.redelivery_wait() == 45
