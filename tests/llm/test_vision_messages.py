"""Images in user messages: validation, wire formats, and the vision capability."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import pytest
from PIL import Image
from pydantic import ValidationError

from imajin.errors import ConfigError
from imajin.llm import (
    ImagesNotSupported,
    LLMClient,
    LLMRegistry,
    LLMSettings,
    Message,
    MessageImage,
    ScriptedBackend,
)
from imajin.llm.backends.openai_compat import OpenAICompatBackend, OpenAICompatOptions
from imajin.llm.testing import FakeOpenAIServer


def encoded(fmt: str, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 4), colour).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def test_images_come_as_bytes_or_data_urls_and_round_trip() -> None:
    png, jpeg = encoded("PNG"), encoded("JPEG")
    url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()

    message = Message.user("What is shown?", images=[png, url])

    assert [image.media_type for image in message.images] == ["image/png", "image/jpeg"]
    assert message.images[1].data == jpeg
    assert message.images[0].data_url == "data:image/png;base64," + base64.b64encode(png).decode()
    assert Message.model_validate_json(message.model_dump_json()) == message


def test_a_text_only_message_serialises_as_before() -> None:
    # Cache keys, chat templates and wire bodies all dump messages: no new key for them.
    assert Message.user("hi").model_dump() == {"role": "user", "content": "hi"}
    assert Message.system("be brief").model_dump_json() == '{"role":"system","content":"be brief"}'


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        (b"GIF89a\x01\x00", "must be PNG or JPEG bytes"),
        ("https://example.com/face.png", "must be a base64 data URL"),
        ("data:image/gif;base64,R0lGODlh", "'image/gif' is not image/png or image/jpeg"),
        ("data:image/png;base64,@@@", "base64 payload is malformed"),
    ],
)
def test_an_image_that_is_not_png_or_jpeg_is_refused(image: bytes | str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Message.user("What is shown?", images=[image])


def test_the_declared_type_must_match_the_bytes() -> None:
    with pytest.raises(ValidationError, match="image bytes are image/png, not the declared"):
        MessageImage(media_type="image/jpeg", data=encoded("PNG"))
    jpeg_as_png = "data:image/png;base64," + base64.b64encode(encoded("JPEG")).decode()
    with pytest.raises(ValidationError, match="image/jpeg, not the declared image/png"):
        MessageImage.from_data_url(jpeg_as_png)


def test_only_user_messages_carry_images() -> None:
    image = MessageImage.from_bytes(encoded("PNG"))
    with pytest.raises(ValidationError, match="only user messages may carry images"):
        Message(role="assistant", content="I see", images=(image,))


def test_openai_backend_sends_image_parts_only_for_image_messages(
    server: FakeOpenAIServer,
) -> None:
    png = encoded("PNG")
    options = OpenAICompatOptions(base_url=server.base_url, model="vl", vision=True)
    client = LLMClient.for_backend(OpenAICompatBackend(options))

    client.complete([Message.system("Describe."), Message.user("And this?", images=[png, png])])

    (request,) = server.requests
    system, user = request.body["messages"]
    assert system == {"role": "system", "content": "Describe."}
    assert user["content"] == [
        {"type": "image_url", "image_url": {"url": MessageImage.from_bytes(png).data_url}},
        {"type": "image_url", "image_url": {"url": MessageImage.from_bytes(png).data_url}},
        {"type": "text", "text": "And this?"},
    ]
    assert request.image_urls == [MessageImage.from_bytes(png).data_url] * 2


@pytest.mark.parametrize(
    "backend",
    [
        ScriptedBackend(),
        OpenAICompatBackend(OpenAICompatOptions(base_url="http://127.0.0.1:9/v1", model="text")),
    ],
)
def test_images_for_a_text_only_model_are_refused_before_sending(backend: object) -> None:
    assert isinstance(backend, ScriptedBackend | OpenAICompatBackend)
    client = LLMClient.for_backend(backend, model_id="plain")
    question = [Message.user("What is shown?", images=[encoded("PNG")])]

    with pytest.raises(ImagesNotSupported, match=r"'plain' .* has no vision capability") as caught:
        client.complete(question)

    assert isinstance(caught.value, ConfigError)
    if isinstance(backend, ScriptedBackend):
        assert backend.requests == []


def test_the_registry_reports_vision_without_building_a_backend() -> None:
    settings = LLMSettings.model_validate(
        {
            "default_model": "text",
            "models": {
                "text": {"backend": "scripted"},
                "seeing": {
                    "backend": "openai",
                    "options": {"base_url": "http://127.0.0.1:9/v1", "model": "m", "vision": True},
                },
                "blind": {
                    "backend": "openai",
                    "options": {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
                },
            },
        }
    )
    registry = LLMRegistry(settings)

    assert {model: registry.sees_images(model) for model in registry.model_ids} == {
        "blind": False,
        "seeing": True,
        "text": False,
    }
