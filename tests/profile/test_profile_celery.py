"""Profiles under the Celery dispatcher: the selfie travels in the job's broker message.

A served API (in this process, ``jobs.dispatcher: celery``) hands each profile job to
real `imajin worker` processes through each broker whose URL is set
(IMAJIN_TEST_REDIS_URL, IMAJIN_TEST_AMQP_URL). The vision model is the local OpenAI
protocol server of tests/profile/conftest.py, reached by the worker over HTTP.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import redis
import yaml
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.events.models import JobEvent
from imajin.jobs import reaper
from imajin.jobs.models import Job, JobStatus
from imajin.llm.testing import FakeOpenAIServer, FakeReply
from imajin.store.migrate import upgrade
from imajin.testing.manifest import write_tiny_manifest
from imajin.wiring import Platform, build_platform
from tests.profile.conftest import (
    ADULT_FEATURES,
    TINY_MODEL,
    astronaut_jpeg,
    encode,
    feature_text_in,
    stored_text,
    upload,
    vision_config,
    vision_server,
)

BROKERS = {
    name: url
    for name, url in (
        ("redis", os.environ.get("IMAJIN_TEST_REDIS_URL")),
        ("rabbitmq", os.environ.get("IMAJIN_TEST_AMQP_URL")),
    )
    if url
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not BROKERS, reason="no IMAJIN_TEST_*_URL broker configured"),
]


@dataclass
class Cluster:
    """An API platform served in this process and `imajin worker` processes, one data dir."""

    workdir: Path
    env: dict[str, str]
    vision: FakeOpenAIServer
    platform: Platform
    client: TestClient
    workers: dict[str, subprocess.Popen[bytes]]

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    def start_worker(self, role: str) -> subprocess.Popen[bytes]:
        # Unique: RabbitMQ refuses a second live worker of the same name (its pidbox queue).
        name = f"{role}-{uuid.uuid4().hex[:8]}"
        log = (self.workdir / f"{name}.log").open("wb")
        route = TINY_MODEL  # a profile job's route is the gateway's model
        process = subprocess.Popen(
            [sys.executable, "-m", "imajin", "worker", "--name", name, "--queues", route],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers[name] = process
        return process

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        for name, process in self.workers.items():
            log = self.workdir / f"{name}.log"
            while b" ready." not in log.read_bytes():
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"worker not ready: {log.read_text()}"
                time.sleep(0.1)

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.workdir.glob("*.log")))


@pytest.fixture(params=sorted(BROKERS))
def cluster(
    request: pytest.FixtureRequest, tmp_path: Path, tiny_zimage_path: Path
) -> Iterator[Cluster]:
    write_tiny_manifest(tmp_path / "data", {TINY_MODEL: tiny_zimage_path})
    with vision_server() as vision:
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(vision_config(vision.base_url)), "utf-8")
        env = {
            **os.environ,
            "IMAJIN_CONFIG": str(config),
            "IMAJIN_DATA_DIR": str(tmp_path / "data"),
            "IMAJIN_GATEWAY__MODEL": TINY_MODEL,
            "IMAJIN_GATEWAY__ENDPOINTS__PROFILE__TIMEOUT_S": "60",
            "IMAJIN_VISION__FEATURES_TIMEOUT_S": "60",
            "IMAJIN_JOBS__DISPATCHER": "celery",
            "IMAJIN_JOBS__CELERY__BROKER_URL": BROKERS[request.param],
            # A private queue prefix: nothing left over from other runs reaches these workers.
            "IMAJIN_JOBS__CELERY__QUEUE_PREFIX": f"imajin-test-{uuid.uuid4().hex[:8]}",
            "IMAJIN_JOBS__HEARTBEAT_INTERVAL_S": "0.5",
            "IMAJIN_JOBS__STALE_AFTER_S": "3",
            "IMAJIN_JOBS__POLL_INTERVAL_S": "0.2",
            # Redis re-delivers a dead worker's message after this (restored within as
            # long again): short, so the kill test's message comes back in seconds.
            "IMAJIN_JOBS__CELERY__VISIBILITY_TIMEOUT_S": "5",
        }
        platform = build_platform(load_settings(environ=env, cwd=tmp_path))
        upgrade(platform.database)  # before the workers start: they check the schema
        client = TestClient(create_app(platform))
        client.__enter__()
        cluster = Cluster(tmp_path, env, vision, platform, client, {})
        try:
            yield cluster
        finally:
            client.__exit__(None, None, None)
            platform.close()
            for process in cluster.workers.values():
                if process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        process.kill()


def _fragments(selfie: bytes) -> list[bytes]:
    """Pieces of the selfie as raw bytes and as base64 (how a message carries it)."""
    encoded = base64.b64encode(selfie)
    middle = len(selfie) // 2 // 3 * 3  # base64 aligned: 3 bytes → 4 characters
    return [
        selfie[:64],
        selfie[middle : middle + 96],
        encoded[middle // 3 * 4 : middle // 3 * 4 + 128],
    ]


def _files_holding(root: Path, fragments: list[bytes]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            if any(fragment in content for fragment in fragments):
                found.append(str(path.relative_to(root)))
    return found


def _wait_until(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _only_job(platform: Platform) -> Job:
    jobs, total = platform.jobs.page(limit=10)
    assert total == 1, jobs
    return jobs[0]


def test_analyze_runs_on_a_celery_worker_with_the_selfie_in_its_message(
    cluster: Cluster,
) -> None:
    worker = cluster.start_worker("profiles")
    cluster.wait_ready()
    selfie = astronaut_jpeg()

    response = upload(cluster.client, "/v1/profile/analyze", selfie)

    assert response.status_code == 200, (response.text, cluster.logs())
    face = response.json()["face"]
    assert face["detected"] is True, face
    box = face["box"]
    assert box["width"] > 50 and box["height"] > 50, box
    assert response.json()["features"]["age_band"] == "26_35"
    # The worker process ran it, and it decoded the selfie: the vision model got the crop.
    job = cluster.platform.jobs.get(response.json()["job_id"])
    assert job.worker_id is not None and f":{worker.pid}:" in job.worker_id
    assert len(cluster.vision.requests) == 1
    assert cluster.vision.requests[0].image_urls
    # Nothing of the selfie reached the store (job rows: SQLite in the data dir) or a file.
    assert _files_holding(cluster.data_dir, _fragments(selfie)) == []
    text = str((job.params, job.result))
    assert not any(fragment.decode("latin-1") in text for fragment in _fragments(selfie))
    assert _fragments(selfie)[2].decode("ascii") not in cluster.logs()


@pytest.mark.parametrize("host", ["same-host", "other-host"])
def test_a_worker_killed_mid_job_completes_the_job_elsewhere_with_its_selfie(
    cluster: Cluster, host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first answer of the vision model stalls: the job is mid-features when its
    # worker dies. The broker re-delivers the original message (acknowledged late: the
    # selfie still in it; RabbitMQ at once, Redis after the fixture's short visibility
    # timeout), and the reaper's re-queue is not sent again without it meanwhile.
    if host == "other-host":
        # The reaper sees a dead process only on its own host; a worker elsewhere is lost
        # once its heartbeat is stale_after_s old, so the re-delivery comes first and
        # must wait for the re-queue.
        monkeypatch.setattr(reaper, "is_dead_local_worker", lambda _worker: False)
    cluster.vision.queue(FakeReply(delay_s=30))
    workers = {p.pid: p for p in (cluster.start_worker("w1"), cluster.start_worker("w2"))}
    cluster.wait_ready()
    service = cluster.platform.profile
    assert service is not None
    selfie = astronaut_jpeg()
    pending = service.submit_analyze(selfie)
    _wait_until(lambda: len(cluster.vision.requests) == 1)
    first = cluster.platform.jobs.get(pending.job_id).worker_id
    assert first is not None
    victim = int(first.split(":")[1])
    workers[victim].send_signal(signal.SIGKILL)
    workers[victim].wait(timeout=10)

    done = cluster.platform.jobs.wait(pending.job_id, timeout_s=60)

    # Never a hang, never a third run: the second attempt, on the other worker, decoded
    # the re-delivered selfie.
    assert done.status == JobStatus.SUCCEEDED, (done.error, cluster.logs())
    assert done.attempts == 2
    assert done.worker_id is not None and f":{victim}:" not in done.worker_id
    assert done.result is not None and done.result["face"]["detected"] is True
    assert len(cluster.vision.requests) == 2
    assert cluster.vision.requests[1].image_urls
    assert _only_job(cluster.platform).id == pending.job_id
    types = [event.type for event in cluster.platform.events.after(0, job_id=done.id)]
    assert types.count(JobEvent.STARTED) == 2 and types.count(JobEvent.SUCCEEDED) == 1, types
    assert JobEvent.FAILED not in types
    # Still nothing of the selfie in the store, a file or a log.
    assert _files_holding(cluster.data_dir, _fragments(selfie)) == []
    text = str((done.params, done.result))
    assert not any(fragment.decode("latin-1") in text for fragment in _fragments(selfie))
    assert _fragments(selfie)[2].decode("ascii") not in cluster.logs()


# One broker is enough: the features never travel in a message, only in the job's row.
@pytest.mark.parametrize("cluster", ["redis"], indirect=True)
def test_a_worker_without_feature_text_leaves_the_features_in_no_row_or_log(
    cluster: Cluster,
) -> None:
    cluster.env["IMAJIN_GATEWAY__PROFILE__STORE_FEATURE_TEXT"] = "false"
    cluster.env["IMAJIN_LOGGING__LEVEL"] = "DEBUG"
    cluster.start_worker("profiles")
    cluster.wait_ready()

    response = upload(cluster.client, "/v1/profile/create", astronaut_jpeg())

    assert response.status_code == 200, (response.text, cluster.logs())
    assert response.json()["features"] == ADULT_FEATURES
    assert feature_text_in(stored_text(cluster.platform)) == []
    assert feature_text_in(cluster.logs()) == []


def _redis_values(client: redis.Redis, prefix: str) -> list[bytes]:
    """Every list item and hash value under the keys of this test's queues (and Celery's
    ``unacked`` hash, where Redis keeps delivered messages until they are acknowledged)."""
    values: list[bytes] = []
    keys = [*client.scan_iter(match=f"{prefix}*"), b"unacked"]
    for key in keys:
        kind = client.type(key)
        if kind == b"list":
            found = client.lrange(key, 0, -1)
        elif kind == b"hash":
            found = client.hvals(key)
        else:
            continue
        values += [value for value in found if isinstance(value, bytes)]
    return values


# Redis only: the test reads the queued message out of the broker's own keys.
@pytest.mark.parametrize("cluster", ["redis"], indirect=True)
def test_the_selfie_waits_only_in_the_broker_message_until_it_is_acknowledged(
    cluster: Cluster,
) -> None:
    client = redis.Redis.from_url(cluster.env["IMAJIN_JOBS__CELERY__BROKER_URL"])
    prefix = cluster.env["IMAJIN_JOBS__CELERY__QUEUE_PREFIX"]
    selfie = astronaut_jpeg()
    service = cluster.platform.profile
    assert service is not None
    pending = service.submit_analyze(selfie)  # no worker yet: the message waits

    queued = [value for value in _redis_values(client, prefix) if pending.job_id.encode() in value]
    assert len(queued) == 1, queued
    message = json.loads(queued[0])
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert args == [pending.job_id]
    assert base64.b64decode(kwargs["payload"]) == selfie
    # What Celery logs and monitors show of it: its size, not its bytes.
    assert message["headers"]["kwargsrepr"] == f"{{'payload': '<{len(selfie)} bytes>'}}"
    params = str(cluster.platform.jobs.get(pending.job_id).params)
    assert not any(fragment.decode("latin-1") in params for fragment in _fragments(selfie))

    worker = cluster.start_worker("profiles")
    done = cluster.platform.jobs.wait(pending.job_id, timeout_s=90)
    assert done.status == JobStatus.SUCCEEDED, (done.error, cluster.logs())
    assert done.worker_id is not None and f":{worker.pid}:" in done.worker_id
    # Acknowledged after the job: the broker holds no copy, nor does any file or log.
    fragment = _fragments(selfie)[2]
    _wait_until(
        lambda: not any(fragment in value for value in _redis_values(client, prefix)),
        timeout=15,
    )
    assert _files_holding(cluster.data_dir, _fragments(selfie)) == []
    assert fragment.decode("ascii") not in cluster.logs()


def _large_selfie() -> bytes:
    """The portrait scaled to 1800 px with noise, as PNG: ~8.5 MB, near ``max_bytes``."""
    image = Image.fromarray(data.astronaut()).resize((1800, 1800))
    noise = np.random.default_rng(0).integers(-40, 40, (1800, 1800, 3))
    noisy = np.clip(np.asarray(image).astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return encode(noisy, "PNG", compress_level=1)


def test_a_selfie_near_max_bytes_travels_through_the_broker(cluster: Cluster) -> None:
    cluster.start_worker("profiles")
    cluster.wait_ready()
    selfie = _large_selfie()
    limit = cluster.platform.settings.gateway.profile.max_bytes
    assert 0.75 * limit < len(selfie) <= limit

    response = upload(cluster.client, "/v1/profile/analyze", selfie)

    assert response.status_code == 200, (response.text, cluster.logs())
    assert response.json()["face"]["detected"] is True
    assert _files_holding(cluster.data_dir, _fragments(selfie)) == []
