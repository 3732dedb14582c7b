"""The profile endpoints end to end: real uploads, real OpenCV, the tiny Z-Image pipeline.

The vision model is a local server speaking the OpenAI protocol, named in config.yaml;
the real feature extractor asks it (see ``tests/profile/conftest.py``).
"""

from __future__ import annotations

import base64
import io
import json
import logging

import pytest
from PIL import Image
from prometheus_client import generate_latest

from imajin.jobs.models import JobStatus
from imajin.llm import MessageImage
from imajin.llm.testing import FakeOpenAIServer, FakeReply
from tests.profile.conftest import (
    ADULT_FEATURES,
    FEATURES_RETRIES,
    ProfileFactory,
    astronaut_jpeg,
    closed_port_url,
    upload,
    vision_server,
)

MINOR_FEATURES = {**ADULT_FEATURES, "age_band": "under_18"}


def _size(data_url: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(MessageImage.from_data_url(data_url).data)) as image:
        return image.size


def _png(body: dict[str, object]) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(str(body["image_base64"]))))
    assert image.format == "PNG"
    return image


def test_analyze_finds_the_face_and_returns_the_features(
    make_profiles: ProfileFactory, vision_model: FakeOpenAIServer
) -> None:
    profiles = make_profiles(vision=vision_model.base_url)
    answer = upload(profiles.client, "/v1/profile/analyze", astronaut_jpeg())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    face = body["face"]
    assert face["detected"] is True and face["faces_found"] == 1
    box = face["box"]
    # Eileen Collins' face spans about x 175–270, y 65–160 of the 512×512 portrait.
    assert 150 < box["x"] < 200 and 40 < box["y"] < 100 and 70 < box["width"] < 130
    assert 0.3 < face["quality_score"] <= 1.0
    assert body["features"] == ADULT_FEATURES and body["message"] is None
    # The VLM got the face crop and the whole upright image, and the feature schema.
    (request,) = vision_model.requests
    crop, whole = (_size(url) for url in request.image_urls)
    assert crop == (box["width"], box["height"]) and whole == (512, 512)
    schema = request.response_schema
    assert schema is not None and set(schema["properties"]) == set(ADULT_FEATURES)
    job = profiles.platform.jobs.get(body["job_id"])
    assert job.kind == "profile" and job.result is not None
    assert set(job.result["timings"]) == {"detect", "features"}


def test_create_draws_a_guarded_adult_avatar_and_stores_it(
    make_profiles: ProfileFactory,
    vision_model: FakeOpenAIServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    profiles = make_profiles(vision=vision_model.base_url)
    answer = upload(profiles.client, "/v1/profile/create", astronaut_jpeg(), style="anime")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert _png(body).size[0] > 0
    prompt = body["prompt_used"]
    # Features through the template, then the character guard (SPEC §1.1).
    assert "dark brown hair" in prompt and "hazel eyes" in prompt and "freckles" in prompt
    assert "short hairstyle" in prompt and "smiling expression" in prompt
    assert "anime style" in prompt and "clearly adult proportions" in prompt
    assert "-year-old adult" in prompt
    assert "none" not in prompt  # facial_hair and glasses: none draw nothing
    assert "26 35" not in prompt and "26_35" not in prompt  # the age band is not drawn
    assert body["features"] == ADULT_FEATURES and body["face"]["detected"] is True
    job = profiles.platform.jobs.get(body["job_id"])
    assert job.result is not None
    assert {"detect", "features", "generate", "check"} <= set(job.result["timings"])
    # Stored like any generated image: PNG, sidecar with its parameters, thumbnail.
    outputs = profiles.platform.settings.layout.outputs
    stored = job.result["avatar"]
    sidecar = json.loads((outputs / stored["sidecar"]).read_text())
    assert sidecar["seed"] == body["seed"] and sidecar["prompt"] == prompt
    assert sidecar["studio"]["profile"]["features"] == ADULT_FEATURES
    assert (outputs / stored["image"]).is_file() and (outputs / stored["thumbnail"]).is_file()
    # Each stage's time is in Prometheus too; no feature or prompt reached the log.
    metrics = generate_latest(profiles.platform.metrics).decode()
    for stage in ("detect", "features", "generate"):
        assert f'imajin_gateway_stage_seconds_count{{stage="{stage}"}}' in metrics
    assert "dark brown" not in caplog.text and "freckles" not in caplog.text


def test_without_feature_text_the_stored_avatar_keeps_no_features(
    make_profiles: ProfileFactory, vision_model: FakeOpenAIServer
) -> None:
    profiles = make_profiles(
        vision=vision_model.base_url, IMAJIN_GATEWAY__PROFILE__STORE_FEATURE_TEXT="false"
    )
    answer = upload(profiles.client, "/v1/profile/create", astronaut_jpeg())
    assert answer.status_code == 200, answer.text
    outputs = profiles.platform.settings.layout.outputs
    written = [path for path in outputs.rglob("*") if path.is_file()]
    assert len(written) == 3
    for path in written:
        content = path.read_bytes()
        assert b"dark brown" not in content and b"freckles" not in content, path


def test_no_vision_model_analyze_gives_the_face_create_503_generate_works(
    make_profiles: ProfileFactory,
) -> None:
    profiles = make_profiles(vision=None)
    analyzed = upload(profiles.client, "/v1/profile/analyze", astronaut_jpeg())
    assert analyzed.status_code == 200, analyzed.text
    body = analyzed.json()
    assert body["features"] is None and "vision.features_model" in body["message"]
    assert body["face"]["detected"] is True
    created = upload(profiles.client, "/v1/profile/create", astronaut_jpeg())
    assert created.status_code == 503
    assert "vision.features_model" in created.json()["error"]["message"]
    generated = profiles.client.post(
        "/v1/profile/generate", json={"features": ADULT_FEATURES, "seed": 7}
    )
    assert generated.status_code == 200, generated.text
    assert generated.json()["seed"] == 7 and _png(generated.json())
    assert "photograph" in generated.json()["prompt_used"]  # the default style


def test_vision_model_invalid_answer_is_retried_then_502_naming_the_stage(
    make_profiles: ProfileFactory,
) -> None:
    with FakeOpenAIServer(respond=lambda _body: "the person has {brown hair") as broken:
        profiles = make_profiles(vision=broken.base_url)
        for path in ("/v1/profile/analyze", "/v1/profile/create"):
            answer = upload(profiles.client, path, astronaut_jpeg())
            assert answer.status_code == 502, answer.text
            error = answer.json()["error"]
            assert error["code"] == "features_invalid" and "features stage" in error["message"]
        assert len(broken.requests) == 2 * (1 + FEATURES_RETRIES)  # each answer retried


def test_vision_model_down_is_503_naming_the_stage(make_profiles: ProfileFactory) -> None:
    profiles = make_profiles(vision=closed_port_url())
    answer = upload(profiles.client, "/v1/profile/create", astronaut_jpeg())
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "features_unavailable" and "features stage" in error["message"]
    assert not profiles.platform.settings.layout.outputs.exists()


def test_slow_vision_model_times_out_at_the_vision_setting_else_the_endpoint(
    make_profiles: ProfileFactory,
) -> None:
    with vision_server() as slow:
        slow.queue(FakeReply(delay_s=2.0), FakeReply(delay_s=2.0))
        profiles = make_profiles(vision=slow.base_url, IMAJIN_VISION__FEATURES_TIMEOUT_S="0.5")
        answer = upload(profiles.client, "/v1/profile/analyze", astronaut_jpeg())
        assert answer.status_code == 504, answer.text
        error = answer.json()["error"]
        assert error["code"] == "features_timeout" and "features stage" in error["message"]
        # No vision timeout: an answer slower than the request's whole wait is a timeout.
        endpoint = make_profiles(
            vision=slow.base_url, IMAJIN_GATEWAY__ENDPOINTS__PROFILE__TIMEOUT_S="1.0"
        )
        pending = upload(endpoint.client, "/v1/profile/analyze", astronaut_jpeg())
        assert pending.status_code == 202, pending.text
        job = endpoint.platform.jobs.wait(pending.json()["job_id"], timeout_s=10)
        assert job is not None and job.status == JobStatus.FAILED
        assert job.error is not None and "features stage" in job.error.message


def test_a_minor_is_refused_and_nothing_is_stored(make_profiles: ProfileFactory) -> None:
    with vision_server(**MINOR_FEATURES) as minor:
        profiles = make_profiles(vision=minor.base_url)
        for path in ("/v1/profile/create", "/v1/profile/analyze"):
            answer = upload(profiles.client, path, astronaut_jpeg())
            assert answer.status_code == 422, answer.text
            assert answer.json()["error"]["code"] == "minor_refused"
    given = profiles.client.post("/v1/profile/generate", json={"features": MINOR_FEATURES})
    assert given.status_code == 422 and given.json()["error"]["reason"] == "minor_subject"
    outputs = profiles.platform.settings.layout.outputs
    assert not outputs.exists() or not [p for p in outputs.rglob("*") if p.is_file()]
    _jobs, total = profiles.platform.jobs.page(kind="profile")
    assert total == 2  # /generate was refused before anything was queued


def test_hard_blocked_or_minor_naming_features_are_refused_before_queueing(
    make_profiles: ProfileFactory,
) -> None:
    profiles = make_profiles()
    for words in (["nude teen"], ["childlike schoolgirl look"]):
        features = {**ADULT_FEATURES, "distinctive_features": words}
        answer = profiles.client.post("/v1/profile/generate", json={"features": features})
        assert answer.status_code == 422, (words, answer.text)
        assert answer.json()["error"]["field"] == "features"
    assert profiles.platform.jobs.page(kind="profile") == ([], 0)


def test_given_features_follow_the_feature_schema(make_profiles: ProfileFactory) -> None:
    profiles = make_profiles()
    for features, field in (
        ({"hair_colour": "purple"}, "features.hair_colour"),
        ({"apparent_age_band": "26_35"}, "features.apparent_age_band"),
        ({"glasses": True}, "features.glasses"),
        ({"distinctive_features": "freckles"}, "features.distinctive_features"),
        ({"distinctive_features": ["x" * 41]}, "features.distinctive_features.0"),
    ):
        answer = profiles.client.post(
            "/v1/profile/generate", json={"features": {**ADULT_FEATURES, **features}}
        )
        assert answer.status_code == 422, (features, answer.text)
        assert answer.json()["error"]["field"] == field
    assert profiles.platform.jobs.page(kind="profile") == ([], 0)
    # A subset is fine: what is left out is not drawn.
    some = profiles.client.post(
        "/v1/profile/generate", json={"features": {"eye_colour": "green"}, "seed": 1}
    )
    assert some.status_code == 200, some.text
    assert "green eyes" in some.json()["prompt_used"]
    assert "hair" not in some.json()["prompt_used"]


def test_full_profile_queue_is_429_with_retry_after(make_profiles: ProfileFactory) -> None:
    profiles = make_profiles(
        IMAJIN_JOBS__WORKERS="0",
        IMAJIN_GATEWAY__ENDPOINTS__PROFILE__CAPACITY="1",
        IMAJIN_GATEWAY__ENDPOINTS__PROFILE__TIMEOUT_S="0.2",
        IMAJIN_GATEWAY__RETRY_AFTER_CAP_MS="2000",
        IMAJIN_JOBS__RETRY_AFTER_DEFAULT_S="60",
    )
    first = upload(profiles.client, "/v1/profile/analyze", astronaut_jpeg())
    assert first.status_code == 202  # nobody runs it: the request times out into its job id
    assert profiles.platform.jobs.get(first.json()["job_id"]).status == JobStatus.QUEUED
    second = profiles.client.post("/v1/profile/generate", json={"features": ADULT_FEATURES})
    assert second.status_code == 429 and second.headers["Retry-After"] == "2"
