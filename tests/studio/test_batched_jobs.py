"""Studio jobs of one shape denoised together (``engine.max_batch`` > 1) with the tiny SD 1.5.

On CPU the engine makes a batched image bit-identical to the image made alone (see
engine/invariance.py), so the first item of a batch is compared byte for byte in pixels.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from imajin.jobs.handlers import HandlerRegistry, JobCancelled, JobContext, Outcome
from imajin.jobs.models import Job, JobSpec, JobStatus
from imajin.jobs.runner import JobRunner
from imajin.studio.handler import StudioRenderer
from imajin.testing.manifest import write_tiny_manifest
from imajin.wiring import Platform
from tests.conftest import LiveServer
from tests.studio.conftest import ServedFactory, wait_batch
from tests.studio.test_batches_api import DiskFullFor, start_batch
from tests.studio.test_studio_api import wait_job


@pytest.fixture
def batching(
    make_served: ServedFactory, data_dir: Path, tiny_sd15_path: Path
) -> tuple[LiveServer, Platform]:
    """A server whose engine denoises up to four images per call, the model by id."""
    write_tiny_manifest(data_dir, {"tiny-sd15": tiny_sd15_path})
    return make_served(IMAJIN_ENGINE__MAX_BATCH="4", IMAJIN_STUDIO__DEFAULTS__MODEL="tiny-sd15")


def pixels(platform: Platform, name: str) -> np.ndarray:
    path = platform.studio.outputs.root / name
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


def jobs_of(live: LiveServer, batch_id: str) -> dict[str, dict[str, Any]]:
    page = httpx.get(f"{live.url}/api/jobs", params={"groupId": batch_id}).json()
    return {job["id"]: job for job in page["items"]}


def generate(live: LiveServer, body: dict[str, Any]) -> str:
    response = httpx.post(f"{live.url}/api/generate", json=body, timeout=30)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def test_a_studio_batch_is_denoised_together_and_matches_its_first_request_alone(
    batching: tuple[LiveServer, Platform],
) -> None:
    live, platform = batching
    created = start_batch(live)
    batch = wait_batch(live, created["batch_id"])
    assert batch["status"] == "complete"
    jobs = jobs_of(live, created["batch_id"])
    assert [jobs[job_id]["result"]["batchSize"] for job_id in created["job_ids"]] == [3, 3, 3]

    first = jobs[created["job_ids"][0]]
    alone = wait_job(live, generate(live, first["params"]["request"]))
    assert alone["status"] == "succeeded", alone
    assert alone["result"]["batchSize"] == 1
    together = pixels(platform, first["result"]["image"])
    single = pixels(platform, alone["result"]["images"][0]["image"])
    assert np.array_equal(together, single)
    # Each item kept its own prompt and seed: the batch's images are not alike.
    second = pixels(platform, jobs[created["job_ids"][1]]["result"]["image"])
    assert np.abs(together - second).mean() > 5


def test_a_blocked_request_fails_alone_and_other_shapes_are_not_batched(
    batching: tuple[LiveServer, Platform],
) -> None:
    live, platform = batching
    platform.stop()  # no worker: everything is queued before one runs
    body = {"prompt": "a lighthouse", "width": 64, "height": 64, "steps": 2}
    same = [generate(live, {**body, "seed": seed}) for seed in (1, 2)]
    other_size = generate(live, {**body, "width": 72, "seed": 3})
    # A request the engine's guard blocks (the API refuses it at submit, so it is queued
    # here directly): the same shape, so it is planned with the others.
    template = platform.jobs.get(same[0])
    params = {**template.params, "outputDir": "single_blocked"}
    params["request"] = {**params["request"], "prompt": "n u d e  c h i l d"}
    blocked = platform.jobs.submit(
        JobSpec(kind="generate", params=params, queue=template.queue, route=template.route)
    )
    platform.start()

    done = [wait_job(live, job_id) for job_id in same]
    assert [job["status"] for job in done] == ["succeeded", "succeeded"]
    assert [job["result"]["batchSize"] for job in done] == [2, 2]
    refused = wait_job(live, blocked.id)
    assert refused["status"] == "failed" and refused["error"]["code"] == "policy_violation"
    apart = wait_job(live, other_size)
    assert apart["status"] == "succeeded" and apart["result"]["batchSize"] == 1


def context(job: Job, *, cancel_after: int | None = None) -> JobContext:
    """The context the runner gives a handler; ``cancel_after`` steps, a cancel is asked."""

    def progress(step: int, total: int, message: str, extra: dict[str, Any]) -> bool:
        return cancel_after is not None and step >= cancel_after

    adapter = logging.LoggerAdapter(logging.getLogger(__name__), {"job_id": job.id})
    return JobContext(job=job, logger=adapter, _progress=progress, _min_interval_s=0.0)


def test_a_cancelled_or_failing_neighbour_leaves_the_others_whole(
    batching: tuple[LiveServer, Platform],
) -> None:
    live, platform = batching
    platform.stop()
    body = {"prompt": "a red fox", "width": 64, "height": 64, "steps": 4}
    kept, cancelled, failing = (
        platform.jobs.get(generate(live, {**body, "seed": seed})) for seed in (11, 12, 777)
    )
    outputs = DiskFullFor(platform.studio.outputs.root, "_777.png")
    renderer = StudioRenderer(engine=lambda: platform.engine, outputs=outputs, thumbnail_px=32)

    result, stopped, error = renderer.run_batch(
        [context(kept), context(cancelled, cancel_after=1), context(failing)]
    )
    assert isinstance(result, dict) and result["batchSize"] == 3
    assert (platform.studio.outputs.root / result["images"][0]["image"]).is_file()
    assert isinstance(stopped, JobCancelled)
    assert isinstance(error, OSError) and "No space left" in str(error)
    for job in (cancelled, failing):  # neither left an image behind
        folder = platform.studio.outputs.root / job.params["outputDir"]
        assert not list(folder.glob("*.png"))
    assert platform.jobs.get(kept.id).status == JobStatus.QUEUED  # the runner was not involved


def test_a_job_cancelled_after_its_batch_began_takes_no_place_in_the_engine_call(
    batching: tuple[LiveServer, Platform],
) -> None:
    live, platform = batching
    platform.stop()  # no worker: the runner below takes the three as one batch
    body = {"prompt": "a stone bridge", "width": 64, "height": 64, "steps": 2}
    kept, cancelled, other = (generate(live, {**body, "seed": seed}) for seed in (21, 22, 23))
    studio = platform.handlers.batch_rule("generate")
    assert studio is not None

    def cancel_then_run(contexts: Sequence[JobContext]) -> list[Outcome]:
        # Handlers have begun (attempts counted); the cancel comes before the engine call,
        # as during a chat job's LLM stages.
        platform.jobs.cancel(cancelled)
        return studio.run(contexts)

    handlers = HandlerRegistry()
    handlers.register(
        "generate", platform.handlers.get("generate"), batch=replace(studio, run=cancel_then_run)
    )
    runner = JobRunner(platform.jobs.repository, handlers, platform.heartbeats)
    assert runner.run_by_id(kept, "worker-1")

    stopped = platform.jobs.get(cancelled)
    assert stopped.status == JobStatus.CANCELLED and stopped.attempts == 1
    assert stopped.progress.step == 0  # not one step denoised
    for job_id in (kept, other):  # the call held the two live jobs only
        done = platform.jobs.get(job_id)
        assert done.status == JobStatus.SUCCEEDED and done.result is not None
        assert done.result["batchSize"] == 2
