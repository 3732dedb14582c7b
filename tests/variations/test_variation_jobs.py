"""A variation's row follows its job however the job ends (the kind's settle hook)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.engine.request import GenerationRequest
from imajin.jobs.handlers import JobContext
from imajin.jobs.models import JobStatus
from imajin.safety import LEGAL_SAFETY_TERMS, has_legal_terms
from imajin.store.migrate import upgrade
from imajin.store.tables import utcnow
from imajin.testing.manifest import write_tiny_manifest
from imajin.variations.events import VariationEvent
from imajin.variations.params import JOB_KIND, VariationJobParams
from imajin.variations.schemas import GenerationParams, VariationStatus
from imajin.wiring import Platform, build_platform
from tests.conftest import LiveServer

LOST_WORKER = "elsewhere:1:x:local-0"  # another host's worker: judged by heartbeat age


TINY = "tiny-sd15"


def serve(tmp_path: Path, model: Path, **jobs: str) -> tuple[Platform, LiveServer]:
    """A server whose manifest lists the tiny model as ``TINY`` (HTTP takes ids only)."""
    write_tiny_manifest(tmp_path / "data", {TINY: model})
    environ = {"IMAJIN_DATA_DIR": str(tmp_path / "data"), "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05"}
    environ.update({f"IMAJIN_JOBS__{key.upper()}": value for key, value in jobs.items()})
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    return platform, LiveServer(create_app(platform))


@pytest.fixture
def idle(tmp_path: Path, tiny_sd15_path: Path) -> Iterator[tuple[Platform, LiveServer]]:
    """A server with no workers of its own, one attempt per job."""
    platform, live = serve(tmp_path, tiny_sd15_path, workers="0", max_attempts="1")
    with live:
        yield platform, live
    platform.close()


def create(live: LiveServer, name: str = "harbour") -> dict[str, object]:
    body = {
        "name": name,
        "families": ["og"],
        "generation": {"prompt": "a harbour at dusk", "model": TINY, "inferenceSteps": 1},
    }
    response = httpx.post(live.url + "/api/images/variations", json=body, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def variation(live: LiveServer, variation_id: object) -> dict[str, object]:
    return httpx.get(live.url + f"/api/images/variations/{variation_id}").json()  # type: ignore[no-any-return]


def test_a_job_the_reaper_marks_lost_fails_its_variation_and_regenerate_is_allowed(
    idle: tuple[Platform, LiveServer],
) -> None:
    platform, live = idle
    created = create(live)
    job_id = str(created["jobId"])
    repository = platform.jobs.repository
    # A worker on another host took the job, marked it generating, then vanished.
    assert repository.claim(job_id, LOST_WORKER) is not None
    assert repository.begin_attempt(job_id, LOST_WORKER) is not None
    platform.variations.repository.change(
        str(created["id"]), VariationStatus.GENERATING, job_id=job_id
    )
    regenerate = live.url + f"/api/images/variations/{created['id']}/regenerate"
    assert httpx.post(regenerate).status_code == 409  # still generating, as far as it knows

    repository.recover(stale_before=utcnow() + timedelta(seconds=1), dead=lambda _w: False)

    assert platform.jobs.get(job_id).status == JobStatus.FAILED
    failed = variation(live, created["id"])
    assert failed["status"] == "failed"
    assert "was lost" in str(failed["error"])
    events = [e.type for e in platform.events.after(0, subject=str(created["id"]))]
    assert events.count(VariationEvent.FAILED) == 1
    again = httpx.post(regenerate)
    assert again.status_code == 202, again.text
    assert again.json()["status"] == "queued" and again.json()["jobId"] != job_id


def test_a_queued_variation_whose_job_is_cancelled_is_not_left_queued(
    idle: tuple[Platform, LiveServer],
) -> None:
    _platform, live = idle
    created = create(live)
    assert httpx.delete(live.url + f"/api/jobs/{created['jobId']}").status_code == 200
    cancelled = variation(live, created["id"])
    assert (cancelled["status"], cancelled["error"]) == ("failed", "cancelled")


def test_an_exception_escaping_the_handler_fails_the_variation(
    tmp_path: Path, tiny_sd15_path: Path
) -> None:
    platform, live = serve(tmp_path, tiny_sd15_path, workers="1")

    def broken(_ctx: JobContext) -> None:
        raise RuntimeError("bug before the first family")

    platform.handlers.replace(JOB_KIND, broken)  # the kind keeps its settle hook
    with live:
        created = create(live)
        assert platform.jobs.wait(str(created["jobId"])).status == JobStatus.FAILED
        failed = variation(live, created["id"])
        assert failed["status"] == "failed"
        assert "RuntimeError: bug before the first family" in str(failed["error"])
    platform.close()


def test_job_params_keep_the_stored_key() -> None:
    stored = {"variationId": "abc123"}  # what jobs queued before the model carry
    assert VariationJobParams.model_validate(stored).model_dump() == stored


def test_the_negative_prompt_is_built_once_at_submit_and_reaches_the_engine_unchanged(
    idle: tuple[Platform, LiveServer],
) -> None:
    platform, live = idle
    created = create(live)
    stored = GenerationParams.model_validate(created["generationParams"])
    assert has_legal_terms(stored.negative_prompt)  # the service built it
    plan = platform.engine.plan(
        GenerationRequest(
            prompt=stored.prompt, negative_prompt=stored.negative_prompt, model=stored.model
        )
    )
    assert plan.negative_prompt == stored.negative_prompt
    # Not rebuilt: a complete negative keeps its own order and spelling (a rebuild would not).
    own = ", ".join(["Grainy", "grainy", *reversed(LEGAL_SAFETY_TERMS)])
    kept = platform.engine.plan(
        GenerationRequest(prompt="a fox", negative_prompt=own, model=stored.model)
    )
    assert kept.negative_prompt == own
    # The engine's guard of last resort still completes a request nobody built.
    bare = platform.engine.plan(
        GenerationRequest(prompt="a fox", negative_prompt="text", model=stored.model)
    )
    assert has_legal_terms(bare.negative_prompt) and bare.negative_prompt.startswith("text, ")
