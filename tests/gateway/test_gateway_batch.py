"""Queued gateway jobs of one shape denoised together (``engine.max_batch`` > 1): imagegen,
and chat images after each job's own LLM stages.

The tiny Z-Image is batch-invariant on CPU (engine/invariance.py; measured: a batched
image differs from the image made alone by 0 levels of 255 for prompts of different
lengths), so images are compared pixel for pixel, with no tolerance.
"""

from __future__ import annotations

import base64
import io
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from imajin.gateway.handler import CHAT_JOIN_S
from imajin.jobs.models import Job, JobStatus
from imajin.llm import (
    CallPolicy,
    Completion,
    CompletionRequest,
    LLMClient,
    LLMTimeout,
    ScriptedBackend,
)
from tests.gateway.conftest import Gateway, GatewayFactory, ScriptedLLM, step_of

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


@dataclass
class SlowFor:
    """The scripted LLM, but an expand for a message with ``slow`` waits ``delay_s`` first,
    and one for a message with ``broken`` times out."""

    llm: ScriptedLLM
    slow: str
    broken: str
    delay_s: float

    def __call__(self, request: CompletionRequest) -> str | Completion:
        text = request.messages[-1].content
        if step_of(request) == "expand" and self.broken in text:
            raise LLMTimeout("no answer in 1 s")
        if step_of(request) == "expand" and self.slow in text:
            time.sleep(self.delay_s)
        return self.llm(request)


CHATS = [
    {"message": "a teapot", "seed": 1},
    {"message": "a lighthouse", "seed": 2},
    {"message": "a slow river", "seed": 3},
    {"message": "a broken bridge", "seed": 4},
]


def test_queued_chat_jobs_share_one_generate_after_their_own_llm_stages(
    make_gateway: GatewayFactory,
) -> None:
    scripted = ScriptedLLM()
    slow = SlowFor(scripted, slow="slow river", broken="broken bridge", delay_s=3 * CHAT_JOIN_S)
    client = LLMClient.for_backend(
        ScriptedBackend(respond=slow), policy=CallPolicy(retries=0, output_retries=1)
    )
    gateway = make_gateway(
        scorer=KnownImages(),
        llm_client=client,
        IMAJIN_ENGINE__MAX_BATCH="4",
        IMAJIN_GATEWAY__ENDPOINTS__SHORTS__TIMEOUT_S="0.3",
    )

    def chat(body: dict[str, Any]) -> str:
        response = gateway.client.post("/v1/chat/shorts/generate", json=body)
        assert response.status_code in (200, 202), response.text
        job_id: str = response.json()["job_id"]
        return job_id

    singles = [finished(gateway, chat(body)) for body in CHATS[:3]]
    assert [job.result["batchSize"] for job in singles if job.result] == [1, 1, 1]
    scripted.seen.clear()

    gateway.platform.stop()
    job_ids = [chat(body) for body in CHATS]
    gateway.platform.start()
    first, second, late, broken = (finished(gateway, job_id) for job_id in job_ids)

    # The two ready together were denoised together; the slow one alone, when it was ready.
    for job, size in ((first, 2), (second, 2), (late, 1)):
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.result is not None and job.result["batchSize"] == size
        assert set(job.result["timings"]) == {"shorten", "expand", "generate", "check", "caption"}
    for job, single in zip((first, second, late), singles, strict=True):
        assert np.array_equal(pixels_of(job), pixels_of(single))
        assert job.result is not None and single.result is not None
        assert job.result["caption"] == single.result["caption"]
    # The LLM stage that failed failed its own job only, naming its stage.
    assert broken.status == JobStatus.FAILED
    assert broken.error is not None and broken.error.code == "llm_timeout"
    assert "expand" in broken.error.message
    assert scripted.steps().count("caption") == 3  # one caption per job that generated
