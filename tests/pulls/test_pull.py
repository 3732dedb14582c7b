"""``imajin models pull`` and ``POST /api/images/models/{id}/pull`` against a local hub.

The hub is :class:`imajin.testing.fake_hub.FakeHub` serving the tiny SD 1.5 pipeline's
folder in the hub's HTTP layout; ``HF_ENDPOINT`` points the real ``huggingface_hub``
client at it, and the test environment's ``HF_HUB_OFFLINE=1`` stays set throughout.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from huggingface_hub import constants

from imajin.api.app import create_app
from imajin.client import ImajinClient
from imajin.config.loader import load_settings
from imajin.engine.pull import pull_model
from imajin.store.migrate import upgrade
from imajin.testing.fake_hub import FakeHub, HubRepo
from imajin.testing.manifest import write_tiny_manifest
from imajin.wiring import Platform, build_models, build_platform
from tests.conftest import LiveServer

REPO = "imajin-test/tiny-sd15"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
UNET = "unet/diffusion_pytorch_model.safetensors"


@pytest.fixture
def data_dir(tmp_path: Path, tiny_sd15_path: Path) -> Path:
    """A manifest with ``hub-sd15`` (the tiny model as a hub repo) and a local ``tiny-sd15``."""
    data = tmp_path / "data"
    write_tiny_manifest(
        data,
        {"hub-sd15": tiny_sd15_path, "tiny-sd15": tiny_sd15_path},
        overrides={"hub-sd15": {"source": REPO}},
    )
    return data


@pytest.fixture
def environ(tmp_path: Path, data_dir: Path) -> dict[str, str]:
    return {
        "IMAJIN_DATA_DIR": str(data_dir),
        "IMAJIN_ENGINE__CACHE_DIR": str(tmp_path / "hf-cache"),
        "IMAJIN_ENGINE__DEVICE": "cpu",
        "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05",
    }


@pytest.fixture
def hub(tiny_sd15_path: Path) -> Iterator[FakeHub]:
    with FakeHub({REPO: HubRepo(tiny_sd15_path, COMMIT)}) as served:
        yield served


def run_cli(*args: str, environ: dict[str, str], hub_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **environ, "HF_ENDPOINT": hub_url, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "imajin", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _models(platform: Platform) -> dict[str, dict[str, Any]]:
    with LiveServer(create_app(platform)) as live:
        answer = httpx.get(f"{live.url}/api/images/models", timeout=60)
    return {m["model_id"]: m for m in answer.json()}


def test_cli_pull_then_the_model_loads_offline_and_generates(
    tmp_path: Path, environ: dict[str, str], hub: FakeHub, tiny_sd15_path: Path
) -> None:
    settings = load_settings(environ=environ, cwd=tmp_path)
    before = build_platform(settings)
    upgrade(before.database)
    assert _models(before)["hub-sd15"]["downloaded"] is False
    before.close()

    done = run_cli("models", "pull", "hub-sd15", environ=environ, hub_url=hub.url)
    assert done.returncode == 0, done.stderr
    assert f"at commit {COMMIT}" in done.stdout
    assert hub.url in done.stderr  # the progress header names the hub

    # The snapshot holds the pipeline's files byte for byte; the root card is left out.
    snapshot = tmp_path / "hf-cache" / "models--imajin-test--tiny-sd15" / "snapshots" / COMMIT
    assert (snapshot / UNET).read_bytes() == (tiny_sd15_path / UNET).read_bytes()
    assert not (snapshot / "imajin.json").exists()

    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    try:
        assert _models(platform)["hub-sd15"]["downloaded"] is True
        with LiveServer(create_app(platform)) as live:
            body = {"prompt": "a red circle", "model": "hub-sd15", "steps": 2, "seed": 3}
            accepted = httpx.post(f"{live.url}/api/generate", json=body, timeout=30).json()
            job = _wait(live.url, accepted["job_id"])
    finally:
        platform.close()
    assert job["status"] == "succeeded", job
    assert len(job["result"]["images"]) == 1


def test_cli_pull_when_the_hub_cannot_be_reached_says_so(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    nowhere = f"http://127.0.0.1:{_closed_port()}"
    done = run_cli("models", "pull", "hub-sd15", environ=environ, hub_url=nowhere)
    assert done.returncode != 0
    assert "cannot reach the Hugging Face hub" in done.stderr
    assert nowhere in done.stderr and "HF_ENDPOINT" in done.stderr
    assert "'hub-sd15'" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_pull_of_a_local_model_explains_there_is_nothing_to_fetch(
    tmp_path: Path, environ: dict[str, str], hub: FakeHub
) -> None:
    done = run_cli("models", "pull", "tiny-sd15", environ=environ, hub_url=hub.url)
    assert done.returncode == 1
    assert "local path" in done.stderr and "hub repos" in done.stderr


def test_an_interrupted_download_resumes_where_it_broke(
    tmp_path: Path,
    environ: dict[str, str],
    tiny_sd15_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The hub client writes in chunks of DOWNLOAD_CHUNK_SIZE (10 MB); the tiny UNet is
    # ~1 MB, so smaller chunks make some bytes land before the cut.
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 16 * 1024)
    spec = build_models(load_settings(environ=environ, cwd=tmp_path)).get("hub-sd15")
    with FakeHub({REPO: HubRepo(tiny_sd15_path, COMMIT)}, break_once=[UNET]) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        seen: list[int] = []
        result = pull_model(
            spec, cache_dir=tmp_path / "hf-cache", on_progress=lambda p: seen.append(p.done_bytes)
        )
        ranges = hub.log.ranges_for(UNET)
    size = (tiny_sd15_path / UNET).stat().st_size
    assert len(ranges) == 1
    resumed_at = int(ranges[0].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at < size
    pulled = (result.snapshot / UNET).read_bytes()
    expected = (tiny_sd15_path / UNET).read_bytes()
    assert hashlib.sha256(pulled).digest() == hashlib.sha256(expected).digest()
    assert seen[-1] == result.total_bytes
    assert constants.HF_HUB_OFFLINE is True  # lifted for the pull only


def test_admin_pull_over_http_is_a_job_with_byte_progress(
    tmp_path: Path, environ: dict[str, str], hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    try:
        with LiveServer(create_app(platform)) as live, ImajinClient(live.url) as imajin:
            job = imajin.pull_model("hub-sd15")
            assert (job.kind, job.queue) == ("pull_model", "models")
            finished = _wait(live.url, job.id)
            events = list(imajin.job_events(job.id))
            missing = httpx.post(f"{live.url}/api/images/models/nope/pull", timeout=10)
            local = httpx.post(f"{live.url}/api/images/models/tiny-sd15/pull", timeout=10)
            listed = {m.model_id: m for m in imajin.list_models()}
    finally:
        platform.close()
    assert finished["status"] == "succeeded", finished
    assert finished["result"]["commit"] == COMMIT
    progress = [e.payload for e in events if e.type == "JOB_PROGRESS"]
    assert progress, [e.type for e in events]
    assert (
        progress[-1]["doneBytes"] == progress[-1]["totalBytes"] == finished["result"]["totalBytes"]
    )
    assert listed["hub-sd15"].downloaded is True
    assert missing.status_code == 404
    assert local.status_code == 422
    assert local.json()["error"]["field"] == "model"


def _wait(url: str, job_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = httpx.get(f"{url}/api/jobs/{job_id}", timeout=10).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
