"""`kill -9` of the server during a running local job: the job survives the restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from imajin.config.loader import load_settings
from imajin.events.models import JobEvent
from imajin.jobs.models import JobStatus
from imajin.store.migrate import upgrade
from imajin.wiring import Platform, build_platform
from tests.conftest import free_port
from tests.jobs.conftest import event_types, noop


@pytest.fixture(params=[3, 1], ids=["retried", "retry-limit"])
def shared(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Platform, dict[str, str]]]:
    """A platform with no workers of its own (it only submits) and the env for servers."""
    env = {
        **os.environ,
        "IMAJIN_DATA_DIR": str(tmp_path / "data"),
        "IMAJIN_JOBS__HEARTBEAT_INTERVAL_S": "0.3",
        "IMAJIN_JOBS__POLL_INTERVAL_S": "0.1",
        "IMAJIN_JOBS__MAX_ATTEMPTS": str(request.param),
    }
    settings = load_settings(environ={**env, "IMAJIN_JOBS__WORKERS": "0"}, cwd=tmp_path)
    platform = build_platform(settings)
    upgrade(platform.database)
    yield platform, env
    platform.close()


def start_server(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "imajin", "serve", "--port", str(free_port())],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _started(platform: Platform, job_id: str) -> bool:
    """Its handler is running: an attempt is counted when the handler starts, not at claim."""
    job = platform.jobs.get(job_id)
    return job.status == JobStatus.RUNNING and job.attempts >= 1


def wait_until(predicate: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_killed_server_job_is_requeued_on_restart(
    shared: tuple[Platform, dict[str, str]], tmp_path: Path
) -> None:
    platform, env = shared
    max_attempts = platform.settings.jobs.max_attempts
    job = platform.jobs.submit(noop(steps=10, sleep_s=0.3))

    first = start_server(env, tmp_path)
    try:
        wait_until(lambda: _started(platform, job.id))
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert platform.jobs.get(job.id).status == JobStatus.RUNNING  # orphaned, not lost

    second = start_server(env, tmp_path)
    try:
        done = platform.jobs.wait(job.id, timeout_s=60)
    finally:
        second.terminate()
        second.wait(timeout=20)

    types = event_types(platform, job)
    if max_attempts > 1:
        assert done.status == JobStatus.SUCCEEDED
        assert done.attempts == 2
        assert types.count(JobEvent.REQUEUED) == 1
        assert types.count(JobEvent.SUCCEEDED) == 1
    else:
        assert done.status == JobStatus.FAILED
        assert done.error is not None and done.error.code == "worker_lost"
        assert "attempt 1 of 1" in done.error.message
        assert types.count(JobEvent.FAILED) == 1
