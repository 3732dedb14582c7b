"""The gateway across real processes: a server killed mid-request, and Celery routing.

Both run `python -m imajin` processes on one data directory with the tiny Z-Image
pipeline. Their LLM is the shipped ``scripted`` backend configured in config.yaml
(the worker is another process, so a double in this one could not reach it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from imajin.config.loader import load_settings
from imajin.jobs.models import Job, JobStatus
from imajin.store.migrate import upgrade
from imajin.wiring import Platform, build_platform
from tests.conftest import free_port

pytestmark = pytest.mark.slow

EXPANSION = "a lighthouse on a rocky cliff at dusk, warm light"
CAPTION = "A quiet lighthouse glows on the cliff as the evening sea rests"


@pytest.fixture
def workdir(tmp_path: Path, tiny_zimage_path: Path) -> Path:
    """A config.yaml whose LLM answers the expand and caption steps of one chat job."""
    answers = [json.dumps({"prompt": EXPANSION}), json.dumps({"caption": CAPTION})]
    config = {
        "llm": {
            "default_model": "script",
            "models": {"script": {"backend": "scripted", "options": {"answers": answers}}},
        },
        "gateway": {"model": str(tiny_zimage_path)},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return tmp_path


def _env(workdir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "IMAJIN_DATA_DIR": str(workdir / "data"),
        "IMAJIN_JOBS__HEARTBEAT_INTERVAL_S": "0.3",
        "IMAJIN_JOBS__POLL_INTERVAL_S": "0.1",
        **extra,
    }


@pytest.fixture
def observer(workdir: Path) -> Iterator[Platform]:
    """A platform in this process on the same store: it runs nothing, it only reads."""
    settings = load_settings(environ={**_env(workdir), "IMAJIN_JOBS__WORKERS": "0"}, cwd=workdir)
    platform = build_platform(settings)
    upgrade(platform.database)
    yield platform
    platform.close()


def _serve(workdir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "imajin", "serve", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_until(lambda: _answers(f"{url}/health"), timeout=60)
    return process, url


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _wait_until(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def _only_job(platform: Platform) -> Job:
    jobs, _total = platform.jobs.repository.page(limit=10, offset=0)
    assert len(jobs) == 1, jobs
    return jobs[0]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_server_killed_mid_request_leaves_a_job_that_finishes_after_restart(
    workdir: Path, observer: Platform
) -> None:
    # The first server only accepts (no workers): the request waits on its queued job.
    first, url = _serve(workdir, _env(workdir, IMAJIN_JOBS__WORKERS="0"))
    in_flight: list[BaseException] = []

    def ask() -> None:
        try:
            httpx.post(
                f"{url}/v1/chat/shorts/generate", json={"message": "a lighthouse"}, timeout=60
            )
        except httpx.TransportError as exc:  # the server dies under the open request
            in_flight.append(exc)

    request = threading.Thread(target=ask)
    try:
        request.start()
        _wait_until(lambda: bool(observer.jobs.repository.page(limit=1, offset=0)[0]))
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        request.join(timeout=30)
    finally:
        _stop(first)
    assert in_flight, "the request should have been cut by the kill"
    job = _only_job(observer)
    assert job.status == JobStatus.QUEUED  # durable: the kill lost nothing

    second, url = _serve(workdir, _env(workdir))
    try:
        done = observer.jobs.wait(job.id, timeout_s=120)
        assert done.status == JobStatus.SUCCEEDED, done.error
        readable = httpx.get(f"{url}/api/jobs/{job.id}", timeout=10)
    finally:
        _stop(second)
    assert readable.status_code == 200
    result = readable.json()["result"]
    assert result["caption"] == CAPTION
    assert result["prompt_used"].startswith(EXPANSION)
    assert result["image_base64"]


@pytest.mark.skipif(not os.environ.get("IMAJIN_TEST_REDIS_URL"), reason="needs Redis")
def test_gateway_jobs_route_by_model_to_the_celery_worker_serving_it(
    workdir: Path, tiny_zimage_path: Path
) -> None:
    env = _env(
        workdir,
        IMAJIN_JOBS__DISPATCHER="celery",
        IMAJIN_JOBS__CELERY__BROKER_URL=os.environ["IMAJIN_TEST_REDIS_URL"],
        IMAJIN_JOBS__CELERY__QUEUE_PREFIX=f"imajin-test-{uuid.uuid4().hex[:8]}",
        IMAJIN_GATEWAY__ENDPOINTS__SHORTS__TIMEOUT_S="0.5",
    )
    platform = build_platform(load_settings(environ=env, cwd=workdir))
    upgrade(platform.database)
    platform.start()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        gateway = platform.gateway
        assert gateway is not None
        from imajin.contracts.gateway import Accepted, ChatImageRequest  # noqa: PLC0415

        accepted = gateway.chat_image("shorts", ChatImageRequest(message="a lighthouse"))
        assert isinstance(accepted, Accepted)  # nobody serves the route yet: 202 {job_id}
        route = platform.jobs.get(accepted.job_id).route
        assert route and route != "default"
        log = (workdir / "worker.log").open("wb")
        for name, queues in (("general", "default"), ("zimage", route)):
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "imajin", "worker", "--name", name, "--queues", queues],
                    env=env,
                    cwd=workdir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        done = platform.jobs.wait(accepted.job_id, timeout_s=120)
    finally:
        platform.close()
        for worker in workers:
            _stop(worker)
    assert done.status == JobStatus.SUCCEEDED, (done.error, (workdir / "worker.log").read_text())
    assert done.worker_id is not None and f":{workers[1].pid}:" in done.worker_id
    assert done.result is not None and done.result["caption"] == CAPTION
