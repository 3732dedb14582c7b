"""The assistant on the real embedded model: SmolLM2-135M-Instruct (GGUF) run by transformers.

The model loads once per session (the `embedded_backend` fixture, about 25 s on 2 CPU
cores) and a whole chain takes a minute or two. Quality is not asserted, only that every answer is
schema-valid and the response complete.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from imajin.assistant import GenerationConfig, RuleOneGuard
from imajin.assistant.answers import TermAnalysis
from imajin.assistant.chain import CONTEXT_PLACEHOLDERS, load_chain, render
from imajin.assistant.reasoning import Asker, Question
from imajin.assistant.rule_one import quote
from imajin.llm import CallPolicy, LLMClient
from imajin.llm.backends.transformers_gguf import TransformersGGUFBackend
from imajin.safety import MODEL_STYLES
from imajin.store.database import Database
from imajin.store.migrate import upgrade
from tests.conftest import open_database

pytestmark = pytest.mark.slow

LEAN = {
    "instanceName": "lean",
    "factorWeights": {"category": 0.9, "cultural": 0.6},
    "extractionGoals": ["style", "maturity_level"],
    "maturityPolicy": {
        "allowExplicitContent": False,
        "defaultMinimum": "sfw",
        "defaultMaximum": "suggestive",
    },
}


@pytest.fixture(scope="module")
def embedded(embedded_backend: TransformersGGUFBackend) -> LLMClient:
    return LLMClient.for_backend(
        embedded_backend,
        model_id="smollm2",
        policy=CallPolicy(timeout_s=600, output_retries=1),
        prompt_guard=RuleOneGuard(development_mode=True),
    )


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """SQLite only: the store runs on both backends elsewhere; here the model is the subject
    (a second full chain on the 135M model for PostgreSQL cost a minute and tested nothing new).
    """
    with open_database("sqlite", tmp_path) as database:
        upgrade(database)
        yield database


@pytest.fixture
def llm(embedded: LLMClient) -> LLMClient:
    """The assistant fixtures (conftest) run on the embedded model in this module."""
    return embedded


def test_a_stage_answers_with_schema_valid_json(embedded: LLMClient) -> None:
    chain = load_chain()
    stage = chain.stages[0]
    values = {name: quote("not stated") for name in CONTEXT_PLACEHOLDERS}
    values |= {"category": quote("bakery"), "city": quote("Lyon"), "filters": quote(["rustic"])}
    question = Question(
        stage=stage.name,
        family=stage.name,
        system=chain.system,
        text=render(stage.question, {**values, "term": quote("rustic")}),
        answer_type=TermAnalysis,
        model_id=None,
    )

    answered = asyncio.run(Asker(llm=embedded, cache=None).ask(question))

    assert isinstance(answered.answer, TermAnalysis)
    assert TermAnalysis.model_validate_json(answered.answer.model_dump_json()) == answered.answer


def test_analyze_context_returns_a_complete_generation_config(http: TestClient) -> None:
    body = {"category": "bakery", "city": "Lyon", "filters": ["rustic"], "instanceConfig": LEAN}

    response = http.post("/analyze-context", json=body)

    assert response.status_code == 200, response.text
    config = GenerationConfig.model_validate(response.json())
    assert [step.stage for step in config.reasoning_chain] == [
        "term_analysis",
        "term_interaction",
        "weighted_hierarchy",
        "extraction.essential",
        "validation",
        "prompt_writing",
    ]
    assert config.model in MODEL_STYLES and config.maturity_level in ("sfw", "suggestive")
    assert set(config.extracted) == {"style", "maturity_level"}
    [prompt] = config.prompts
    assert prompt.prompt.strip() and prompt.negative_prompt
    assert all(step.llm_model == "smollm2" for step in config.reasoning_chain)
