"""Queued ``/v1/imagegen`` jobs of one shape denoised together (``engine.max_batch`` > 1).

The tiny Z-Image is batch-invariant on CPU (engine/invariance.py; measured: a batched
image differs from the image made alone by 0 levels of 255 for prompts of different
lengths), so images are compared pixel for pixel, with no tolerance.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from imajin.jobs.models import Job, JobStatus
from tests.gateway.conftest import Gateway, GatewayFactory

BODIES = [
    {"prompt": "a teapot on a wooden table", "seed": 1},
    {"prompt": "a lighthouse on a rocky cliff at dusk, calm sea", "seed": 2},
    {"prompt": "a bowl of lemons", "seed": 3},
]


@dataclass
class KnownImages:
    """An output check that passes everything until ``allowed`` is set; then only the
    images in it (by pixels), so a batched image passes only if it equals one made alone."""

    allowed: list[np.ndarray] | None = None
    name: str = "yahoo-open-nsfw"
    seen: list[np.ndarray] = field(default_factory=list)

    def score(self, image: Image.Image) -> float:
        pixels = np.asarray(image.convert("RGB"))
        self.seen.append(pixels)
        if self.allowed is None or any(np.array_equal(pixels, ok) for ok in self.allowed):
            return 0.0
        return 1.0


def submit(gateway: Gateway, body: dict[str, Any]) -> str:
    response = gateway.client.post("/v1/imagegen", json=body)
    assert response.status_code in (200, 202), response.text
    job_id: str = response.json()["job_id"]
    return job_id


def finished(gateway: Gateway, job_id: str) -> Job:
    return gateway.platform.jobs.wait(job_id, timeout_s=120)


def pixels_of(job: Job) -> np.ndarray:
    assert job.result is not None
    data = base64.b64decode(job.result["image_base64"])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def alone(gateway: Gateway, body: dict[str, Any]) -> Job:
    job = finished(gateway, submit(gateway, body))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result is not None and job.result["batchSize"] == 1
    return job


def queued_together(gateway: Gateway, bodies: list[dict[str, Any]]) -> list[Job]:
    """Queue ``bodies`` while no worker runs (each request answers 202), then run them."""
    gateway.platform.stop()
    job_ids = [submit(gateway, body) for body in bodies]
    gateway.platform.start()
    return [finished(gateway, job_id) for job_id in job_ids]


def make(make_gateway: GatewayFactory, scorer: KnownImages) -> Gateway:
    return make_gateway(
        scorer=scorer,
        IMAJIN_ENGINE__MAX_BATCH="4",
        IMAJIN_GATEWAY__ENDPOINTS__IMAGEGEN__TIMEOUT_S="0.3",
    )


def test_queued_imagegen_jobs_are_denoised_together_and_match_each_request_alone(
    make_gateway: GatewayFactory,
) -> None:
    scorer = KnownImages()
    gateway = make(make_gateway, scorer)
    singles = [alone(gateway, body) for body in BODIES]
    scorer.allowed = [pixels_of(job) for job in singles]

    together = queued_together(gateway, BODIES)
    for single, job in zip(singles, together, strict=True):
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.result is not None and single.result is not None
        assert job.result["batchSize"] == len(BODIES)
        assert np.array_equal(pixels_of(job), pixels_of(single))
        assert job.result["seed"] == single.result["seed"]
        assert job.result["prompt_used"] == single.result["prompt_used"]
        assert job.result["policy"]["output_check"]["passed"] is True
        assert set(job.result["timings"]) == {"generate", "check"}
    # Each job kept its own prompt and seed: the batch's images are not alike.
    first, second = (pixels_of(job).astype(np.int16) for job in together[:2])
    assert np.abs(first - second).mean() > 5
    # The job record (not the gateway's response) carries the batch size.
    response = gateway.client.get(f"/api/jobs/{together[0].id}")
    assert response.status_code == 200 and response.json()["result"]["batchSize"] == 3


def test_a_refused_image_fails_alone_and_its_neighbours_are_kept(
    make_gateway: GatewayFactory,
) -> None:
    scorer = KnownImages()
    gateway = make(make_gateway, scorer)
    kept = [alone(gateway, BODIES[0]), alone(gateway, BODIES[2])]
    # Only the images made alone pass: the middle job's image is refused, and so is the
    # image it regenerates (alone, new seed, stronger prompt).
    scorer.allowed = [pixels_of(job) for job in kept]
    scorer.seen.clear()

    first, refused, last = queued_together(gateway, BODIES)
    for job, single in ((first, kept[0]), (last, kept[1])):
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.result is not None and job.result["batchSize"] == 3
        assert np.array_equal(pixels_of(job), pixels_of(single))
    assert refused.status == JobStatus.FAILED
    assert refused.error is not None and refused.error.code == "output_blocked"
    assert refused.result is None  # nothing of the refused images is kept
    assert len(scorer.seen) == 4  # three batched images, then the regenerated one
    # Sent alone, the refused request fails as it did before batching: a 422, or (when it
    # outlasts the short wait this test sets) a job that failed the same way.
    response = gateway.client.post("/v1/imagegen", json=BODIES[1])
    if response.status_code == 202:
        job = finished(gateway, response.json()["job_id"])
        assert job.error is not None and job.error.code == "output_blocked"
    else:
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "output_blocked"


def test_other_shapes_are_not_batched(make_gateway: GatewayFactory) -> None:
    gateway = make(make_gateway, KnownImages())
    other_steps = {**BODIES[2], "steps": 2}
    jobs = queued_together(gateway, [BODIES[0], BODIES[1], other_steps])
    assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 3
    assert [job.result["batchSize"] for job in jobs if job.result] == [2, 2, 1]
