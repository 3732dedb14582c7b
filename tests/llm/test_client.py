"""LLMClient over the scripted backend: structured output, retries, recording, the prompt guard."""

from __future__ import annotations

import asyncio
import json
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from imajin.errors import UpstreamError, UserError
from imajin.llm import (
    CallPolicy,
    Completion,
    CompletionRequest,
    LLMClient,
    LLMOutputError,
    LLMRequestRejected,
    LLMUpstreamError,
    Message,
    ScriptedBackend,
    ScriptExhausted,
    UnknownModel,
)
from imajin.llm.scripted import minimal_instance
from imajin.llm.structured import closed_schema

QUESTION = [Message.system("You classify search contexts."), Message.user("Which style fits?")]
FAST = CallPolicy(backoff_s=0.0, retries=2, output_retries=2)


class StyleAnswer(BaseModel):
    style: Literal["photo", "illustration"]
    confidence: float = Field(ge=0, le=1)


def client_for(backend: ScriptedBackend, **policy: object) -> LLMClient:
    return LLMClient.for_backend(backend, policy=FAST.model_copy(update=policy))


def test_structured_answer_validates_into_the_type() -> None:
    backend = ScriptedBackend(answers=['{"style": "photo", "confidence": 0.8}'])

    answer = client_for(backend).complete_structured(QUESTION, StyleAnswer)

    assert answer == StyleAnswer(style="photo", confidence=0.8)
    request = backend.last_request
    assert request.json_schema == StyleAnswer.model_json_schema()
    assert request.schema_name == "StyleAnswer"
    # The schema is described in the existing system message, not in a second one.
    assert [message.role for message in request.messages] == ["system", "user"]
    assert request.messages[0].content.startswith("You classify search contexts.")
    assert '"enum":["photo","illustration"]' in request.messages[0].content


def test_code_fences_around_the_json_are_accepted() -> None:
    backend = ScriptedBackend(answers=['```json\n{"style": "photo", "confidence": 1}\n```'])

    assert client_for(backend).complete_structured(QUESTION, StyleAnswer).style == "photo"


def test_malformed_answer_is_retried_with_the_problem_fed_back() -> None:
    backend = ScriptedBackend(
        answers=[
            '{"style": "watercolour", "confidence": 0.5}',
            '{"style": "illustration", "confidence": 0.5}',
        ]
    )

    answer = client_for(backend).complete_structured(QUESTION, StyleAnswer)

    assert answer.style == "illustration"
    assert len(backend.requests) == 2
    retry = backend.requests[1].messages
    assert retry[-2] == Message.assistant('{"style": "watercolour", "confidence": 0.5}')
    assert retry[-1].role == "user"
    assert "style: Input should be 'photo' or 'illustration'" in retry[-1].content


def test_persistently_malformed_answers_raise_after_the_bounded_retries() -> None:
    backend = ScriptedBackend(answers=["not json", "{}", '{"style": "photo", "confidence": 7}'])

    with pytest.raises(LLMOutputError) as caught:
        client_for(backend, output_retries=2).complete_structured(QUESTION, StyleAnswer)

    error = caught.value
    assert len(backend.requests) == 3
    assert error.attempts == 3
    assert error.output == '{"style": "photo", "confidence": 7}'
    assert "confidence: Input should be less than or equal to 1" in error.problem
    assert "StyleAnswer in 3 attempt(s)" in error.message
    assert "confidence: Input should be less than or equal to 1" in error.message
    assert isinstance(error, UpstreamError)


def test_zero_output_retries_means_one_attempt_and_invalid_json_is_named() -> None:
    backend = ScriptedBackend(answers=["{'style': 'photo'"])

    with pytest.raises(LLMOutputError, match="Invalid JSON"):
        client_for(backend, output_retries=0).complete_structured(QUESTION, StyleAnswer)
    assert len(backend.requests) == 1


def test_an_answer_cut_off_at_max_tokens_says_so() -> None:
    backend = ScriptedBackend(answers=[Completion(text='{"style": "ph', finish_reason="length")])

    with pytest.raises(LLMOutputError, match="cut off at max_tokens=64"):
        client_for(backend, output_retries=0, max_tokens=64).complete_structured(
            QUESTION, StyleAnswer
        )


def test_upstream_failures_are_retried_then_succeed() -> None:
    backend = ScriptedBackend(
        answers=[LLMUpstreamError("flaky", status=503), LLMUpstreamError("flaky"), "fine"]
    )

    assert client_for(backend, retries=2).complete(QUESTION) == "fine"
    assert len(backend.requests) == 3


def test_upstream_failures_beyond_the_retries_raise_the_last_error() -> None:
    backend = ScriptedBackend(answers=[LLMUpstreamError(f"down {n}", status=502) for n in range(3)])

    with pytest.raises(LLMUpstreamError, match="down 1") as caught:
        client_for(backend, retries=1).complete(QUESTION)
    assert caught.value.status == 502
    assert backend.remaining == 1


def test_non_retryable_errors_are_raised_at_once() -> None:
    rejected = LLMRequestRejected("bad request", status=400, body="{}")
    backend = ScriptedBackend(answers=[rejected, "never sent"])

    with pytest.raises(LLMRequestRejected) as caught:
        client_for(backend).complete(QUESTION)
    assert isinstance(caught.value, UserError)
    assert len(backend.requests) == 1


def test_requests_carry_the_policy_and_the_per_call_timeout() -> None:
    backend = ScriptedBackend()
    client = client_for(backend, max_tokens=77, temperature=0.3, seed=5, timeout_s=9)

    client.complete(QUESTION)
    client.complete(QUESTION, timeout=1.5)

    first, second = backend.requests
    assert (first.max_tokens, first.temperature, first.seed, first.timeout_s) == (77, 0.3, 5, 9)
    assert second.timeout_s == 1.5
    assert first.messages == tuple(QUESTION)
    assert first.json_schema is None


def test_text_completion_with_a_schema_passes_it_through() -> None:
    backend = ScriptedBackend()
    schema = StyleAnswer.model_json_schema()

    text = client_for(backend).complete(QUESTION, schema=schema)

    assert json.loads(text) == {"style": "photo", "confidence": 0.0}
    assert backend.last_request.json_schema == schema


def test_prompt_guard_sees_every_prompt_including_retries() -> None:
    seen: list[list[Message]] = []
    backend = ScriptedBackend(answers=["nope", '{"style": "photo", "confidence": 0}', "plain"])
    client = LLMClient.for_backend(backend, policy=FAST, prompt_guard=seen.append)

    client.complete_structured(QUESTION, StyleAnswer)
    client.complete([Message.user("Say something")])

    assert len(seen) == 3
    assert [tuple(prompt) for prompt in seen] == [request.messages for request in backend.requests]


def test_prompt_guard_veto_stops_the_prompt_before_it_is_sent() -> None:
    class RuleViolation(Exception):
        pass

    def guard(messages: list[Message]) -> None:
        if any("ALWAYS" in message.content for message in messages):
            raise RuleViolation("static rule in prompt")

    backend = ScriptedBackend()
    client = LLMClient.for_backend(backend, prompt_guard=guard)

    with pytest.raises(RuleViolation):
        client.complete([Message.user("ALWAYS answer photo")])
    assert backend.requests == []


def test_function_answers_see_the_request() -> None:
    def respond(request: CompletionRequest) -> str:
        return f"you said {request.messages[-1].content}"

    client = client_for(ScriptedBackend(respond=respond))

    assert client.complete([Message.user("hi")]) == "you said hi"


def test_an_exhausted_script_fails_loudly() -> None:
    backend = ScriptedBackend(answers=["one"])
    client = client_for(backend)
    client.complete(QUESTION)

    with pytest.raises(ScriptExhausted, match="request #2"):
        client.complete(QUESTION)


def test_empty_messages_are_refused() -> None:
    with pytest.raises(ValueError, match="messages"):
        client_for(ScriptedBackend()).complete([])


def test_async_questions_run_concurrently_and_validate() -> None:
    backend = ScriptedBackend()
    client = client_for(backend)

    async def ask_all() -> list[StyleAnswer]:
        questions = [[Message.user(f"question {n}")] for n in range(5)]
        return await asyncio.gather(
            *(client.acomplete_structured(q, StyleAnswer) for q in questions)
        )

    answers = asyncio.run(ask_all())

    assert answers == [StyleAnswer(style="photo", confidence=0)] * 5
    assert sorted(r.messages[-1].content for r in backend.requests) == [
        f"question {n}" for n in range(5)
    ]


def test_async_retries_then_output_error() -> None:
    backend = ScriptedBackend(answers=[LLMUpstreamError("flaky"), "bad", "worse"])
    client = client_for(backend, output_retries=1)

    with pytest.raises(LLMOutputError):
        asyncio.run(client.acomplete_structured(QUESTION, StyleAnswer))
    assert len(backend.requests) == 3
    backend.add_answers("fine")
    assert asyncio.run(client.acomplete(QUESTION)) == "fine"


def test_minimal_instance_covers_the_schema_pydantic_emits() -> None:
    class Part(BaseModel):
        name: str = Field(min_length=2)
        weight: int = Field(gt=3)

    class Whole(BaseModel):
        parts: list[Part] = Field(min_length=1)
        mood: Literal["calm", "busy"] | None
        flag: bool
        score: float = Field(ge=0.5)

    value = minimal_instance(Whole.model_json_schema())

    assert Whole.model_validate(value) == Whole(
        parts=[Part(name="aa", weight=4)], mood="calm", flag=False, score=0.5
    )


def test_closed_schema_forbids_unlisted_keys_everywhere() -> None:
    class Inner(BaseModel):
        properties: str  # a field named like the keyword must stay a field

    class Outer(BaseModel):
        inner: Inner
        items: list[Inner]
        extra: dict[str, int]

    closed = closed_schema(Outer.model_json_schema())

    assert closed["additionalProperties"] is False
    assert closed["$defs"]["Inner"]["additionalProperties"] is False
    assert closed["$defs"]["Inner"]["properties"] == {
        "properties": {"title": "Properties", "type": "string"}
    }
    # An explicit additionalProperties (a dict field) is kept.
    assert closed["properties"]["extra"]["additionalProperties"] == {"type": "integer"}


def test_a_client_over_several_backends_picks_by_model_id() -> None:
    fast, deep = ScriptedBackend(answers=["fast"]), ScriptedBackend(answers=["deep"])
    client = LLMClient.for_backends({"fast": fast, "deep": deep}, default="fast")

    assert client.complete(QUESTION, model="deep") == "deep"
    assert client.complete(QUESTION) == "fast"
    with pytest.raises(
        UnknownModel, match="No LLM model 'typo' in this client — known: deep, fast"
    ):
        client.complete(QUESTION, model="typo")
