"""The OpenAI-compatible backend against a local fake server that speaks the protocol."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Literal

import pytest
from pydantic import BaseModel, SecretStr

from imajin.errors import ConfigError, UpstreamError, UserError
from imajin.llm import (
    CallPolicy,
    CompletionRequest,
    LLMClient,
    LLMOutputError,
    LLMRegistry,
    LLMRequestRejected,
    LLMSettings,
    LLMTimeout,
    LLMUnavailable,
    LLMUpstreamError,
    Message,
    ModelDefinition,
)
from imajin.llm.backends.openai_compat import OpenAICompatBackend, OpenAICompatOptions
from imajin.llm.testing import FakeOpenAIServer, FakeReply

QUESTION = [Message.system("You classify."), Message.user("Which style fits a bakery?")]
KEY = "sk-test-123"


class StyleAnswer(BaseModel):
    style: Literal["photo", "illustration"]
    confidence: float


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key=KEY) as fake:
        yield fake


def client_for(server: FakeOpenAIServer, *, retries: int = 2, key: str = KEY) -> LLMClient:
    options = OpenAICompatOptions(
        base_url=server.base_url + "/", model="qwen-test", api_key=SecretStr(key)
    )
    policy = CallPolicy(retries=retries, backoff_s=0.01, timeout_s=5, output_retries=1)
    return LLMClient.for_backend(OpenAICompatBackend(options), policy=policy)


def test_structured_answer_sends_schema_model_and_key(server: FakeOpenAIServer) -> None:
    server.queue(FakeReply(content='{"style": "photo", "confidence": 0.9}'))

    answer = client_for(server).complete_structured(QUESTION, StyleAnswer)

    assert answer == StyleAnswer(style="photo", confidence=0.9)
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "qwen-test"
    assert request.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "StyleAnswer",
            "schema": {**StyleAnswer.model_json_schema(), "additionalProperties": False},
            "strict": True,
        },
    }
    assert request.body["messages"][1] == {"role": "user", "content": QUESTION[1].content}
    assert request.body["max_tokens"] == 512
    assert request.body["temperature"] == 0.0


def test_invalid_answer_is_retried_through_the_server(server: FakeOpenAIServer) -> None:
    server.queue(FakeReply(content='{"style": "sketch"}'), FakeReply(content="still wrong"))

    with pytest.raises(LLMOutputError, match="Invalid JSON"):
        client_for(server).complete_structured(QUESTION, StyleAnswer)

    assert len(server.requests) == 2
    assert server.requests[1].body["messages"][-2]["content"] == '{"style": "sketch"}'


def test_timeout_raises_upstream_error_naming_the_timeout(server: FakeOpenAIServer) -> None:
    server.queue(FakeReply(delay_s=2.0))
    started = time.monotonic()

    with pytest.raises(LLMTimeout, match=r"did not answer within the 0\.3 s timeout") as caught:
        client_for(server, retries=0).complete(QUESTION, timeout=0.3)

    assert isinstance(caught.value, UpstreamError)
    assert time.monotonic() - started < 1.5


def test_a_500_is_retried_then_succeeds(server: FakeOpenAIServer) -> None:
    server.queue(FakeReply(status=500, body="boom"), FakeReply(content="recovered"))

    assert client_for(server, retries=1).complete(QUESTION) == "recovered"
    assert len(server.requests) == 2


def test_persistent_500_raises_with_status_and_body(server: FakeOpenAIServer) -> None:
    server.queue(*[FakeReply(status=500, body='{"error": "model crashed"}')] * 3)

    with pytest.raises(LLMUpstreamError, match="failed with HTTP 500") as caught:
        client_for(server, retries=2).complete(QUESTION)

    assert caught.value.status == 500
    assert caught.value.body == '{"error": "model crashed"}'
    assert not isinstance(caught.value, UserError)
    assert len(server.requests) == 3


def test_a_400_is_a_user_error_with_the_body_and_not_retried(server: FakeOpenAIServer) -> None:
    server.queue(FakeReply(status=400, body='{"error": "max_tokens too large"}'))

    with pytest.raises(LLMRequestRejected, match="rejected the request with HTTP 400") as caught:
        client_for(server).complete(QUESTION)

    assert isinstance(caught.value, UserError)
    assert caught.value.status == 400
    assert caught.value.body == '{"error": "max_tokens too large"}'
    assert len(server.requests) == 1


def test_a_wrong_key_says_to_check_the_key(server: FakeOpenAIServer) -> None:
    with pytest.raises(LLMRequestRejected, match=r"HTTP 401.*options\.api_key"):
        client_for(server, key="wrong").complete(QUESTION)


def test_a_429_is_retried(server: FakeOpenAIServer) -> None:
    server.queue(FakeReply(status=429), FakeReply(content="later"))

    assert client_for(server).complete(QUESTION) == "later"


def test_an_unreachable_server_is_unavailable() -> None:
    with FakeOpenAIServer() as fake:
        client = client_for(fake, retries=0)
    # The server has stopped: nothing listens on its port any more.
    with pytest.raises(LLMUnavailable, match="Cannot reach LLM server"):
        client.complete(QUESTION)


def test_async_calls_are_concurrent_and_retry(server: FakeOpenAIServer) -> None:
    server.queue(FakeReply(status=503), *[FakeReply(delay_s=0.3)] * 4)
    client = client_for(server)

    async def ask() -> list[StyleAnswer]:
        return await asyncio.gather(
            *(client.acomplete_structured(QUESTION, StyleAnswer) for _ in range(4))
        )

    answers = asyncio.run(ask())

    assert answers == [StyleAnswer(style="photo", confidence=0.0)] * 4
    assert len(server.requests) == 5
    # The slow answers were in flight together (counted by the server, not timed: a
    # wall-clock bound failed on a loaded machine). Queued calls would give 1; the retried
    # call may arrive after the others, so at least the first round overlaps.
    assert server.max_in_flight >= 3


def test_async_timeout(server: FakeOpenAIServer) -> None:
    server.queue(FakeReply(delay_s=2.0))

    with pytest.raises(LLMTimeout):
        asyncio.run(client_for(server, retries=0).acomplete(QUESTION, timeout=0.3))


def test_json_object_mode_and_options_validation() -> None:
    options = OpenAICompatOptions(
        base_url="http://127.0.0.1:1/v1", model="m", structured_output="json_object"
    )
    backend = OpenAICompatBackend(options)
    request = CompletionRequest(
        messages=tuple(QUESTION),
        json_schema=StyleAnswer.model_json_schema(),
        max_tokens=10,
        temperature=0.0,
        seed=3,
        timeout_s=1,
    )

    body = backend.body(request)

    assert body["response_format"] == {"type": "json_object"}
    assert body["seed"] == 3
    assert "Authorization" not in backend._client.headers
    backend.close()
    with pytest.raises(ValueError, match="must start with http"):
        OpenAICompatOptions(base_url="127.0.0.1:8000/v1", model="m")
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        OpenAICompatOptions.model_validate({"base_url": "http://x/v1", "model": "m", "key": "k"})


def test_the_key_can_come_from_an_environment_variable(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {"base_url": server.base_url, "model": "m", "api_key_env": "IMAJIN_TEST_LLM_KEY"}
    monkeypatch.delenv("IMAJIN_TEST_LLM_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"IMAJIN_TEST_LLM_KEY .* is not set"):
        OpenAICompatBackend(OpenAICompatOptions.model_validate(options))
    settings = LLMSettings(
        default_model="m", models={"m": ModelDefinition(backend="openai", options=options)}
    )
    with pytest.raises(ConfigError, match=r"IMAJIN_TEST_LLM_KEY .* is not set"):
        LLMRegistry(settings)  # at start-up, not on the first question

    monkeypatch.setenv("IMAJIN_TEST_LLM_KEY", KEY)
    backend = OpenAICompatBackend(OpenAICompatOptions.model_validate(options))

    assert LLMClient.for_backend(backend).complete(QUESTION) == "ok"
    assert server.requests[-1].headers["authorization"] == f"Bearer {KEY}"
