"""Live previews of a generate job over the event stream, and what the outbox keeps of them."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import httpx
from PIL import Image

from imajin.events.models import PREVIEW
from tests.studio.conftest import ServedFactory

DATA_URL = "data:image/webp;base64,"
BODY = {"prompt": "a lighthouse at dusk", "seed": 3, "steps": 40, "width": 64, "height": 64}
# A preview lives until the next one; the relay must read the outbox often enough to see
# one while even a fast machine denoises 40 tiny steps.
FAST = {"IMAJIN_ENGINE__PREVIEW_INTERVAL_S": "0", "IMAJIN_EVENTS__RELAY_INTERVAL_S": "0.01"}


def job_events(url: str) -> tuple[str, list[dict[str, Any]]]:
    """Open the page-wide stream, queue a job, and read its events until it ends."""
    events: list[dict[str, Any]] = []
    with httpx.stream("GET", f"{url}/api/events", timeout=60) as stream:
        response = httpx.post(f"{url}/api/generate", json=BODY, timeout=30)
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
        for line in stream.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line.removeprefix("data: "))
            if event["jobId"] != job_id:
                continue
            events.append(event)
            if event["type"] in ("JOB_SUCCEEDED", "JOB_FAILED", "JOB_CANCELLED"):
                return job_id, events
    raise AssertionError(f"the stream ended before the job did: {events}")


def test_a_job_streams_previews_before_its_result(make_served: ServedFactory) -> None:
    live, platform = make_served(**FAST)
    job_id, events = job_events(live.url)
    types = [event["type"] for event in events]
    assert types[-1] == "JOB_SUCCEEDED", events[-1]
    previews = [event["payload"] for event in events if event["type"] == PREVIEW]
    assert previews, types
    assert types.index(PREVIEW) < types.index("JOB_SUCCEEDED")
    for payload in previews:
        assert payload["jobId"] == job_id and payload["status"] == "running"
        assert 1 <= payload["step"] <= payload["total"] == BODY["steps"]
        assert payload["dataUrl"].startswith(DATA_URL)
        image = Image.open(io.BytesIO(base64.b64decode(payload["dataUrl"][len(DATA_URL) :])))
        assert image.format == "WEBP"
        assert image.size == (payload["width"], payload["height"]) == (64, 64)
    # Relayed, not kept: the job's end removed its last preview from the outbox.
    stored = platform.events.after(0, job_id=job_id)
    assert stored and PREVIEW not in {event.type for event in stored}


def test_previews_off_sends_none(make_served: ServedFactory) -> None:
    live, _ = make_served(IMAJIN_ENGINE__PREVIEWS="false", **FAST)
    _, events = job_events(live.url)
    types = [event["type"] for event in events]
    assert types[-1] == "JOB_SUCCEEDED" and "JOB_PROGRESS" in types
    assert PREVIEW not in types
