"""With ``store_feature_text`` off, a selfie's features reach their caller and no store.

The real flow runs (uploads, OpenCV, the vision test peer, the tiny pipeline); then every
row of every table (jobs, events, ...) and the job's event stream are read directly.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import pytest

from imajin.jobs.models import Job
from imajin.llm.testing import FakeOpenAIServer, FakeReply
from imajin.store.tables import utcnow
from imajin.wiring import Platform
from tests.profile.conftest import (
    ADULT_FEATURES,
    ProfileFactory,
    Profiles,
    astronaut_jpeg,
    feature_text_in,
    stored_text,
    upload,
    vision_server,
)

OFF = {"IMAJIN_GATEWAY__PROFILE__STORE_FEATURE_TEXT": "false"}
TTL_S = 600.0


def event_stream(profiles: Profiles, job_id: str) -> str:
    """The job's whole SSE history, as a client streaming it reads it."""
    answer = profiles.client.get(f"/api/jobs/{job_id}/events")
    assert answer.status_code == 200, answer.text
    return answer.text


def finished(platform: Platform, job_id: str, timeout_s: float = 60.0) -> Job:
    """Wait for the job to end by reading its row as the worker left it (no delivery)."""
    deadline = time.monotonic() + timeout_s
    while True:
        job = platform.jobs.repository.get(job_id)
        if job.status.finished:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job.status}"
        time.sleep(0.05)


@pytest.mark.parametrize("path", ["/v1/profile/analyze", "/v1/profile/create"])
def test_on_the_job_keeps_the_features_off_only_the_answer_has_them(
    make_profiles: ProfileFactory,
    vision_model: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Kept on (the default): in the row, and for every read, not only the first.
    kept = make_profiles(vision=vision_model.base_url)
    job_id = upload(kept.client, path, astronaut_jpeg()).json()["job_id"]
    assert "freckles" in feature_text_in(stored_text(kept.platform))
    for _read in range(2):
        result = kept.client.get(f"/api/jobs/{job_id}").json()["result"]
        assert result["features"] == ADULT_FEATURES and "deliverOnce" not in result
    caplog.clear()
    profiles = make_profiles(vision=vision_model.base_url, **OFF)
    answer = upload(profiles.client, path, astronaut_jpeg())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["features"] == ADULT_FEATURES  # the contract's answer, unchanged
    if path.endswith("create"):
        assert "freckles" in body["prompt_used"]
    assert feature_text_in(stored_text(profiles.platform)) == []
    assert feature_text_in(event_stream(profiles, body["job_id"])) == []
    assert feature_text_in(caplog.text) == []
    # A later read of the job says what went, and why its value is null.
    result = profiles.client.get(f"/api/jobs/{body['job_id']}").json()["result"]
    assert result["features"] is None and result["deliverOnce"] == ["features", "prompt_used"]
    assert result["face"]["detected"] is True  # the rest of the result stays


def accepted_job(profiles: Profiles) -> str:
    """A create answered 202 (the vision model is slower than the request's wait), run to
    its end without anyone reading it."""
    answer = upload(profiles.client, "/v1/profile/create", astronaut_jpeg())
    assert answer.status_code == 202, answer.text
    job_id: str = answer.json()["job_id"]
    assert finished(profiles.platform, job_id).status == "succeeded"
    return job_id


def slow_profiles(make_profiles: ProfileFactory, server: FakeOpenAIServer) -> Profiles:
    server.queue(FakeReply(delay_s=1.5))
    return make_profiles(
        vision=server.base_url,
        IMAJIN_GATEWAY__ENDPOINTS__PROFILE__TIMEOUT_S="0.5",
        IMAJIN_VISION__FEATURES_TIMEOUT_S="30",
        **OFF,
    )


def test_off_a_202_job_gives_its_features_to_the_first_poll_only(
    make_profiles: ProfileFactory,
) -> None:
    with vision_server() as slow:
        profiles = slow_profiles(make_profiles, slow)
        job_id = accepted_job(profiles)
    client = profiles.client
    # Waiting for its poll: a listing shows nothing of them, and does not use them up.
    listed = client.get("/api/jobs", params={"kind": "profile"}).json()["items"]
    assert [job["result"]["features"] for job in listed] == [None]
    assert "freckles" in stored_text(profiles.platform)
    first = client.get(f"/api/jobs/{job_id}").json()["result"]
    assert first["features"] == ADULT_FEATURES and "freckles" in first["prompt_used"]
    assert feature_text_in(stored_text(profiles.platform)) == []
    again = client.get(f"/api/jobs/{job_id}").json()["result"]
    assert again["features"] is None and again["prompt_used"] is None


def test_off_unread_features_go_after_the_ttl(make_profiles: ProfileFactory) -> None:
    with vision_server() as slow:
        profiles = slow_profiles(make_profiles, slow)
        polled_late = accepted_job(profiles)
        slow.queue(FakeReply(delay_s=1.5))
        unread = accepted_job(profiles)
    platform = profiles.platform
    assert platform.settings.gateway.profile.unread_features_ttl_s == TTL_S
    later = utcnow() + timedelta(seconds=TTL_S + 1)
    # A poll past the deadline gets them no more, even before the sweep has run...
    late: dict[str, Any] | None = platform.jobs.repository.deliver(polled_late, now=later).result
    assert late is not None and late["features"] is None
    # ...and the sweep drops those nobody read at all.
    assert platform.retention.forget_unread(now=utcnow()) == 0  # not yet due
    assert "freckles" in stored_text(platform)
    assert platform.retention.forget_unread(now=later) == 1
    assert feature_text_in(stored_text(platform)) == []
    result = profiles.client.get(f"/api/jobs/{unread}").json()["result"]
    assert result["features"] is None and result["image_base64"]


def test_off_generate_keeps_no_given_features_once_its_job_ends(
    make_profiles: ProfileFactory,
) -> None:
    profiles = make_profiles(**OFF)
    client = profiles.client
    answer = client.post("/v1/profile/generate", json={"features": ADULT_FEATURES, "seed": 3})
    assert answer.status_code == 200, answer.text
    assert "freckles" in answer.json()["prompt_used"]
    assert feature_text_in(stored_text(profiles.platform)) == []
    # A job cancelled on its way ends without them too (its kind's settle hook).
    slow = make_profiles(IMAJIN_GATEWAY__ENDPOINTS__PROFILE__TIMEOUT_S="0.01", **OFF)
    pending = slow.client.post("/v1/profile/generate", json={"features": ADULT_FEATURES})
    assert pending.status_code == 202, pending.text
    job_id = pending.json()["job_id"]
    assert slow.client.delete(f"/api/jobs/{job_id}").status_code == 200
    assert finished(slow.platform, job_id).status == "cancelled"
    assert feature_text_in(stored_text(slow.platform)) == []
