"""Scale-out on Celery with real brokers and real `imajin worker` processes.

Runs against each broker whose URL is set (`.ci/run` sets both):
IMAJIN_TEST_REDIS_URL and IMAJIN_TEST_AMQP_URL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from imajin.config.loader import load_settings
from imajin.errors import ServiceUnavailable
from imajin.events.models import JobEvent
from imajin.jobs.models import JobStatus
from imajin.store.migrate import upgrade
from imajin.store.tables import JobRow
from imajin.wiring import Platform, build_platform
from tests.jobs.conftest import event_types, noop
from tests.support.tcp_proxy import TcpProxy

BROKERS = {
    name: url
    for name, url in (
        ("redis", os.environ.get("IMAJIN_TEST_REDIS_URL")),
        ("rabbitmq", os.environ.get("IMAJIN_TEST_AMQP_URL")),
    )
    if url
}

pytestmark = pytest.mark.skipif(not BROKERS, reason="no IMAJIN_TEST_*_URL broker configured")


class Cluster:
    """A shared data directory, a submitting platform and `imajin worker` processes."""

    def __init__(self, tmp_path: Path, broker_url: str) -> None:
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "IMAJIN_DATA_DIR": str(tmp_path / "data"),
            "IMAJIN_JOBS__DISPATCHER": "celery",
            "IMAJIN_JOBS__CELERY__BROKER_URL": broker_url,
            # A private queue prefix: nothing left over from other runs reaches these workers.
            "IMAJIN_JOBS__CELERY__QUEUE_PREFIX": f"imajin-test-{uuid.uuid4().hex[:8]}",
            "IMAJIN_JOBS__HEARTBEAT_INTERVAL_S": "0.5",
            "IMAJIN_JOBS__STALE_AFTER_S": "3",
            "IMAJIN_JOBS__POLL_INTERVAL_S": "0.2",
        }
        self.workers: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.platforms: list[Platform] = []

    def platform(self, **overrides: str) -> Platform:
        environ = {**self.env, **overrides}
        platform = build_platform(load_settings(environ=environ, cwd=self.tmp_path))
        upgrade(platform.database)
        platform.start()
        self.platforms.append(platform)
        return platform

    def start_worker(self, name: str, queues: str = "default") -> subprocess.Popen[bytes]:
        path = self.tmp_path / f"{name}.log"
        self.logs.append(path)
        log = path.open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "imajin",
                "worker",
                "--name",
                name,
                "--queues",
                queues,
                "--loglevel",
                "INFO",
            ],
            env=self.env,
            cwd=self.tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(process)
        return process

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait for every worker's "ready." log line (it is then consuming its queues)."""
        deadline = time.monotonic() + timeout
        for process, log in zip(self.workers, self.logs, strict=True):
            while b" ready." not in log.read_bytes():
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"worker not ready: {log.read_text()}"
                time.sleep(0.1)

    def close(self) -> None:
        for platform in self.platforms:
            platform.close()
        for process in self.workers:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


@pytest.fixture(params=sorted(BROKERS))
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, BROKERS[request.param])
    migrator = build_platform(load_settings(environ=cluster.env, cwd=tmp_path))
    upgrade(migrator.database)
    migrator.close()
    yield cluster
    cluster.close()


def _started(platform: Platform, job_id: str) -> bool:
    """Its handler is running: an attempt is counted when the handler starts, not at claim."""
    job = platform.jobs.get(job_id)
    return job.status == JobStatus.RUNNING and job.attempts >= 1


def wait_until(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_jobs_run_on_the_worker_that_serves_their_route(cluster: Cluster) -> None:
    general = cluster.start_worker("general", queues="default")
    sdxl = cluster.start_worker("sdxl", queues="sdxl-models")
    platform = cluster.platform()
    cluster.wait_ready()
    plain = platform.jobs.submit_many([noop(steps=2), noop(steps=1)])
    routed = [
        platform.jobs.submit(noop().model_copy(update={"route": "sdxl-models"})) for _ in range(3)
    ]
    for jobs, worker in ((plain, general), (routed, sdxl)):
        for job in jobs:
            done = platform.jobs.wait(job.id, timeout_s=60)
            assert done.status == JobStatus.SUCCEEDED
            # Warm-model affinity: a route's jobs go only to workers consuming that route.
            assert done.worker_id is not None and f":{worker.pid}:" in done.worker_id


def test_killed_worker_job_completes_exactly_once_on_another(cluster: Cluster) -> None:
    workers = {p.pid: p for p in (cluster.start_worker("w1"), cluster.start_worker("w2"))}
    platform = cluster.platform()
    cluster.wait_ready()
    job = platform.jobs.submit(noop(steps=15, sleep_s=0.2))
    wait_until(lambda: _started(platform, job.id))
    first_worker = platform.jobs.get(job.id).worker_id
    assert first_worker is not None
    victim = int(first_worker.split(":")[1])
    workers[victim].send_signal(signal.SIGKILL)
    workers[victim].wait(timeout=10)

    done = platform.jobs.wait(job.id, timeout_s=90)
    assert done.status == JobStatus.SUCCEEDED
    assert done.worker_id is not None and f":{victim}:" not in done.worker_id
    assert done.attempts == 2
    types = event_types(platform, job)
    assert types.count(JobEvent.SUCCEEDED) == 1
    assert types.count(JobEvent.STARTED) == 2


def test_broker_outage_at_submit_is_503_and_the_job_runs_when_it_returns(
    cluster: Cluster,
) -> None:
    real = urlsplit(cluster.env["IMAJIN_JOBS__CELERY__BROKER_URL"])
    proxy = TcpProxy((real.hostname or "127.0.0.1", real.port or 0))
    proxied = real._replace(netloc=real.netloc.replace(f":{real.port}", f":{proxy.port}"))
    cluster.start_worker("w1")  # the worker reaches the broker directly
    platform = cluster.platform(IMAJIN_JOBS__CELERY__BROKER_URL=proxied.geturl())
    cluster.wait_ready()

    with pytest.raises(ServiceUnavailable, match="stored and will be dispatched") as caught:
        platform.jobs.submit(noop())
    job_id = caught.value.message.split("Job(s) ")[1].split(" ")[0]
    assert platform.jobs.get(job_id).status == JobStatus.QUEUED  # not lost

    proxy.start()  # the broker is back
    try:
        assert platform.jobs.wait(job_id, timeout_s=60).status == JobStatus.SUCCEEDED
    finally:
        proxy.stop()


def test_a_worker_gathers_compatible_jobs_for_its_batch_window(cluster: Cluster) -> None:
    cluster.env["IMAJIN_JOBS__BATCH_WINDOW_MS"] = "2000"
    cluster.start_worker("w1")
    platform = cluster.platform()
    cluster.wait_ready()
    first = platform.jobs.submit(noop(steps=2, batch=3))
    # Claimed and gathering: running, its handler not started (no attempt counted yet).
    wait_until(lambda: platform.jobs.get(first.id).status == JobStatus.RUNNING, timeout=30)
    assert platform.jobs.get(first.id).attempts == 0
    later = [platform.jobs.submit(noop(steps=2, batch=3)) for _ in range(2)]
    other_shape = platform.jobs.submit(noop(steps=1, batch=3))

    batch = [platform.jobs.wait(job.id, timeout_s=60) for job in (first, *later)]
    assert all(job.status == JobStatus.SUCCEEDED and job.attempts == 1 for job in batch)
    assert [job.result["batchSize"] for job in batch if job.result] == [3, 3, 3]
    assert len({job.worker_id for job in batch}) == 1
    for job in batch:
        types = event_types(platform, job)
        assert types.count(JobEvent.STARTED) == types.count(JobEvent.SUCCEEDED) == 1
    alone = platform.jobs.wait(other_shape.id, timeout_s=60)
    assert alone.status == JobStatus.SUCCEEDED and alone.result is not None
    assert alone.result["batchSize"] == 1
    # The gathered jobs' own messages came later and were dropped (their jobs had run).
    # A job gathered before its submit sent it has no message at all (the send claims
    # queued jobs only), so count the messages that were sent.
    sent = sent_messages(platform, [job.id for job in later])
    log = cluster.logs[0]
    wait_until(lambda: log.read_text().count("is not queued") >= sent, timeout=30)
    for job in batch:
        types = event_types(platform, job)
        assert types.count(JobEvent.STARTED) == types.count(JobEvent.SUCCEEDED) == 1


def sent_messages(platform: Platform, job_ids: list[str]) -> int:
    """How many of ``job_ids`` were sent to the broker."""
    with platform.database.session() as session:
        return len(
            session.scalars(
                select(JobRow.id).where(JobRow.id.in_(job_ids), JobRow.dispatched_at.is_not(None))
            ).all()
        )


def test_a_batch_whose_worker_is_killed_completes_once_per_job_elsewhere(
    cluster: Cluster,
) -> None:
    first = cluster.start_worker("w1")
    platform = cluster.platform()
    cluster.wait_ready()
    # Long enough (8 s) to outlast the second worker's start-up.
    jobs = platform.jobs.submit_many([noop(steps=40, sleep_s=0.2, batch=3) for _ in range(3)])
    wait_until(lambda: all(_started(platform, job.id) for job in jobs))
    holders = {platform.jobs.get(job.id).worker_id for job in jobs}
    assert len(holders) == 1  # one worker took the three as one batch
    cluster.start_worker("w2")
    cluster.wait_ready()
    victim = first.pid
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    # The reaper re-queues each job of the lost batch; the other worker runs them (again
    # as a batch), each exactly once more.
    for job in jobs:
        done = platform.jobs.wait(job.id, timeout_s=90)
        assert done.status == JobStatus.SUCCEEDED and done.attempts == 2
        assert done.worker_id is not None and f":{victim}:" not in done.worker_id
        types = event_types(platform, job)
        assert types.count(JobEvent.SUCCEEDED) == 1 and types.count(JobEvent.REQUEUED) == 1
