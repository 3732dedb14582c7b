"""Feature extraction through an OpenAI-compatible vision API (a local server speaking it)."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image
from skimage import data

from imajin.api.errors import status_for
from imajin.assistant.rule_one import RuleOneGuard, check_messages
from imajin.config import Settings
from imajin.errors import ConfigError
from imajin.llm import LLMRegistry, MessageImage
from imajin.llm.testing import FakeOpenAIServer, FakeReply, schema_answer
from imajin.vision import (
    NO_VISION_MODEL_MESSAGE,
    FeatureExtractor,
    FeaturesInvalid,
    FeaturesTimeout,
    FeaturesUnavailable,
    VisionConfigError,
    build_detector,
    build_feature_extractor,
    load_feature_schema,
)
from imajin.vision.base import RGBImage


def last_choices(body: dict[str, Any]) -> str:
    """An answer built from the schema the server was sent: each field's last value."""
    schema = body["response_format"]["json_schema"]["schema"]
    answer: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        answer[name] = prop["enum"][-1] if "enum" in prop else ["freckles"][: prop["maxItems"]]
    return json.dumps(answer)


def settings_for(
    base_url: str, *, vision: bool = True, retries: int = 1, **vision_settings: object
) -> Settings:
    return Settings.model_validate(
        {
            "llm": {
                "default_model": "vlm",
                "retries": 0,
                "backoff_s": 0.01,
                "models": {
                    "vlm": {
                        "backend": "openai",
                        "options": {"base_url": base_url, "model": "qwen2-vl", "vision": vision},
                    },
                    "text": {"backend": "scripted"},
                },
            },
            "vision": {
                "features_model": "vlm",
                "features_retries": retries,
                "features_max_side": 256,
                **vision_settings,
            },
        }
    )


def extractor_for(settings: Settings) -> FeatureExtractor:
    extractor = build_feature_extractor(settings, LLMRegistry(settings.llm))
    assert extractor is not None
    return extractor


@pytest.fixture(scope="module")
def photo() -> RGBImage:
    # NASA portrait of Eileen Collins (public domain), 512×512, shipped with scikit-image.
    return np.ascontiguousarray(data.astronaut()[..., :3])


@pytest.fixture(scope="module")
def face(photo: RGBImage) -> RGBImage:
    (box,) = build_detector("opencv-haar").detect(photo)
    return np.ascontiguousarray(photo[box.y : box.y + box.height, box.x : box.x + box.width])


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(respond=last_choices) as fake:
        yield fake


def decoded(url: str) -> Image.Image:
    image = MessageImage.from_data_url(url)
    return Image.open(io.BytesIO(image.data))


def test_sends_face_and_photo_as_data_urls_with_the_schema(
    server: FakeOpenAIServer, photo: RGBImage, face: RGBImage
) -> None:
    features = extractor_for(settings_for(server.base_url)).extract(face=face, image=photo)

    (request,) = server.requests
    schema = request.response_schema
    assert schema is not None
    # The answer is what the server built from the schema it was sent, validated back.
    assert features == json.loads(last_choices(request.body))
    assert features["age_band"] == "51_plus"
    assert features["distinctive_features"] == ["freckles"]
    shipped = load_feature_schema()
    assert list(schema["properties"]) == list(shipped.fields)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["age_band"]["enum"][0] == "under_18"
    assert request.body["response_format"]["json_schema"]["strict"] is True
    # Face crop first, whole photo second, each scaled to fit features_max_side as JPEG.
    first, second = request.image_urls
    assert first.startswith("data:image/jpeg;base64,")
    assert decoded(first).size == (face.shape[1], face.shape[0])
    assert decoded(second).size == (256, 256)
    crop_pixels = np.asarray(decoded(first), dtype=np.float64)
    assert np.abs(crop_pixels - face).mean() < 6  # the crop itself, not another region
    system, user = request.body["messages"]
    assert system["role"] == "system" and shipped.system in system["content"]
    assert user["content"][-1] == {"type": "text", "text": shipped.question}


def test_the_shipped_prompts_pass_the_prompt_guard(
    server: FakeOpenAIServer, photo: RGBImage, face: RGBImage
) -> None:
    # The platform's registry checks every prompt (SPEC §4.3 rule 1) and raises in
    # development mode; the schema described in the system message is JSON, hence data.
    settings = settings_for(server.base_url)
    guard = RuleOneGuard(development_mode=True)
    extractor = build_feature_extractor(settings, LLMRegistry(settings.llm, prompt_guard=guard))
    assert extractor is not None

    assert check_messages(extractor.messages(face=face, image=photo)) == []
    extractor.extract(face=face, image=photo)
    assert len(server.requests) == 1


def test_png_format_and_an_operator_schema_file(
    server: FakeOpenAIServer, photo: RGBImage, face: RGBImage, tmp_path: Path
) -> None:
    path = tmp_path / "features.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "system": "Describe what is visible.",
                "question": "What colour is the hair?",
                "fields": {
                    "hair": {"kind": "choice", "description": "Hair.", "values": ["dark", "fair"]},
                    "band": {"kind": "choice", "description": "Age.", "values": ["minor", "adult"]},
                },
                "minor": {"field": "band", "values": ["minor"]},
            }
        ),
        encoding="utf-8",
    )
    settings = settings_for(server.base_url, features_file=str(path), features_image_format="png")
    extractor = extractor_for(settings)

    features = extractor.extract(face=face, image=photo)

    assert features == {"hair": "fair", "band": "adult"}
    assert not extractor.is_minor(features)
    assert extractor.is_minor({"hair": "dark", "band": "minor"})
    (request,) = server.requests
    assert all(url.startswith("data:image/png;base64,") for url in request.image_urls)
    assert request.body["messages"][1]["content"][-1]["text"] == "What colour is the hair?"


def test_an_invalid_answer_is_retried_with_the_problem(
    server: FakeOpenAIServer, photo: RGBImage, face: RGBImage
) -> None:
    server.queue(FakeReply(content='{"hair_colour": "teal"}'))

    features = extractor_for(settings_for(server.base_url)).extract(face=face, image=photo)

    assert features["hair_colour"] == "not_visible"
    _first, second = server.requests
    feedback = second.body["messages"][-1]["content"]
    assert "hair_colour" in feedback and "not valid" in feedback
    assert len(second.image_urls) == 2  # the images go again with the retry


def test_invalid_json_after_the_retries_is_a_502_naming_the_stage(
    server: FakeOpenAIServer, photo: RGBImage, face: RGBImage
) -> None:
    server.queue(FakeReply(content="she has brown hair"), FakeReply(content="{not json"))

    with pytest.raises(FeaturesInvalid) as caught:
        extractor_for(settings_for(server.base_url, retries=1)).extract(face=face, image=photo)

    error = caught.value
    assert status_for(error) == 502
    assert error.stage == "features" and "features stage" in error.message
    assert error.code == "features_invalid"
    assert "brown hair" not in error.message  # a raw answer may describe the person
    assert len(server.requests) == 2


def test_a_server_that_is_down_is_a_503(photo: RGBImage, face: RGBImage) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    extractor = extractor_for(settings_for(f"http://127.0.0.1:{port}/v1"))

    with pytest.raises(FeaturesUnavailable) as caught:
        extractor.extract(face=face, image=photo)

    assert status_for(caught.value) == 503
    assert caught.value.code == "features_unavailable"
    assert "features stage" in caught.value.message and "Cannot reach" in caught.value.message


def test_a_slow_server_is_a_504_that_is_also_unavailable(
    server: FakeOpenAIServer, photo: RGBImage, face: RGBImage
) -> None:
    server.queue(FakeReply(delay_s=2.0))
    extractor = extractor_for(settings_for(server.base_url))

    with pytest.raises(FeaturesTimeout) as caught:
        extractor.extract(face=face, image=photo, timeout_s=0.3)

    assert isinstance(caught.value, FeaturesUnavailable)
    assert status_for(caught.value) == 504


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("text", "'text' (backend 'scripted') has no vision capability"),
        ("missing", "'missing' is not defined under llm.models"),
    ],
)
def test_a_model_that_cannot_see_is_a_start_up_error(model: str, expected: str) -> None:
    settings = settings_for("http://127.0.0.1:9/v1", features_model=model)

    with pytest.raises(VisionConfigError) as caught:
        build_feature_extractor(settings, LLMRegistry(settings.llm))

    assert isinstance(caught.value, ConfigError)
    assert caught.value.field == "vision.features_model"
    assert expected in caught.value.message and "vision.features_model" in caught.value.message


def test_an_openai_model_without_the_vision_option_is_text_only() -> None:
    settings = settings_for("http://127.0.0.1:9/v1", vision=False)

    with pytest.raises(VisionConfigError, match=r"'vlm' \(backend 'openai'\) has no vision"):
        build_feature_extractor(settings, LLMRegistry(settings.llm))


def test_no_features_model_means_no_extractor_and_the_message_names_the_key() -> None:
    settings = settings_for("http://127.0.0.1:9/v1", features_model=None)

    assert build_feature_extractor(settings, LLMRegistry(settings.llm)) is None
    assert "`vision.features_model`" in NO_VISION_MODEL_MESSAGE


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"minor": {"field": "glasses", "values": ["none"]}}, "must name a choice field"),
        ({"minor": {"field": "age_band", "values": ["child"]}}, "['child'] are not values"),
        ({"question": ""}, "question"),
        ({"fields": {"Bad Name": {"kind": "list", "description": "x"}}}, "fields"),
    ],
)
def test_a_bad_schema_file_fails_at_start_up_naming_the_key(
    tmp_path: Path, change: dict[str, Any], problem: str
) -> None:
    shipped = yaml.safe_load(resources.files("imajin.vision").joinpath("features.yaml").read_text())
    shipped["fields"]["glasses"] = {"kind": "list", "description": "Eyewear.", "max_items": 2}
    shipped["fields"]["glasses"]["max_length"] = 20
    path = tmp_path / "features.yaml"
    path.write_text(yaml.safe_dump({**shipped, **change}), encoding="utf-8")
    settings = settings_for("http://127.0.0.1:9/v1", features_file=str(path))

    with pytest.raises(VisionConfigError) as caught:
        build_feature_extractor(settings, LLMRegistry(settings.llm))

    assert caught.value.field == "vision.features_file"
    assert problem in caught.value.message and str(path) in caught.value.message


def test_images_must_be_rgb_uint8(server: FakeOpenAIServer, photo: RGBImage) -> None:
    extractor = extractor_for(settings_for(server.base_url))

    with pytest.raises(ValueError, match="H×W×3 uint8 RGB"):
        extractor.extract(face=photo.astype(np.float32), image=photo)  # type: ignore[arg-type]
    assert server.requests == []


def test_schema_answer_sets_fields_and_the_minor_rule_reads_them(
    photo: RGBImage, face: RGBImage
) -> None:
    with FakeOpenAIServer(respond=schema_answer(age_band="26_35", glasses="glasses")) as fake:
        extractor = extractor_for(settings_for(fake.base_url))
        adult = extractor.extract(face=face, image=photo)
    with FakeOpenAIServer() as fake:  # the schema-minimal answer: each field's first value
        minimal = extractor_for(settings_for(fake.base_url)).extract(face=face, image=photo)

    assert adult["age_band"] == "26_35" and adult["glasses"] == "glasses"
    assert adult["hair_colour"] == minimal["hair_colour"] == "black"
    assert not extractor.is_minor(adult)
    assert minimal["age_band"] == "under_18" and extractor.is_minor(minimal)
