"""The embedded default model, for real: SmolLM2-135M-Instruct (GGUF) run by transformers.

The model loads once for this module (about 25 s on 2 CPU cores); answers are kept
short. Quality is not asserted, only that constrained decoding yields valid output.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from imajin.llm import CallPolicy, LLMClient, LLMTimeout, Message
from imajin.llm.backends.transformers_gguf import TransformersGGUFBackend

pytestmark = pytest.mark.slow

QUESTION = [
    Message.system("You help choose how to illustrate a web page."),
    Message.user("The page lists bakeries in Lyon. Which visual style fits, and how sure are you?"),
]


class StyleAnswer(BaseModel):
    style: Literal["photo", "illustration", "painting"]
    confidence: float = Field(ge=0, le=1)


@pytest.fixture
def backend(embedded_backend: TransformersGGUFBackend) -> TransformersGGUFBackend:
    """The session's loaded model (tests/conftest.py): loading it takes ~25 s."""
    return embedded_backend


@pytest.fixture
def client(backend: TransformersGGUFBackend) -> LLMClient:
    return LLMClient.for_backend(backend, policy=CallPolicy(max_tokens=32, output_retries=0))


def test_structured_answer_is_schema_valid(client: LLMClient) -> None:
    answer = client.complete_structured(QUESTION, StyleAnswer)

    assert isinstance(answer, StyleAnswer)


def test_concurrent_questions_are_serialised_and_each_is_valid(client: LLMClient) -> None:
    class Count(BaseModel):
        subjects: int = Field(ge=0, le=9)

    async def ask_twice() -> list[Count]:
        questions = [
            [Message.user("How many people are in a photo of a bakery counter?")],
            [Message.user("How many people are in a photo of an empty street?")],
        ]
        return await asyncio.gather(*(client.acomplete_structured(q, Count) for q in questions))

    counts = asyncio.run(ask_twice())

    assert all(0 <= count.subjects <= 9 for count in counts)


def test_text_answer_and_the_timeout(backend: TransformersGGUFBackend) -> None:
    client = LLMClient.for_backend(backend, policy=CallPolicy(max_tokens=4))

    assert isinstance(client.complete([Message.user("Say hello.")]), str)
    with pytest.raises(LLMTimeout, match=r"did not finish within the 0\.001 s timeout"):
        client.complete([Message.user("Say hello.")], timeout=0.001)
