"""The reasoning chain with a scripted LLM: order, concurrency, what questions carry, failures."""

from __future__ import annotations

import asyncio
import json
import re
from threading import Barrier
from typing import Any

import pytest

from imajin.assistant import AnalyzeContextRequest, AssistantService, GenerationConfig, StageFailed
from imajin.assistant.chain import ChainSpec, load_chain
from imajin.assistant.errors import AssistantConfigError
from imajin.llm import ScriptedBackend
from tests.assistant.conftest import StageScript, analyze_body, example_instance, family, user_text

SEO_GROUPS = ["essential", "audience", "aesthetic", "composition", "specificity", "custom"]


def analyze(service: AssistantService, **overrides: Any) -> GenerationConfig:
    request = AnalyzeContextRequest.model_validate(analyze_body(**overrides))
    return asyncio.run(service.analyze_context(request))


def test_stages_run_in_chain_order_and_independent_questions_overlap(
    service: AssistantService, script: StageScript
) -> None:
    # Each question of these stages waits until others of its stage are in flight with it;
    # asked one after another, they would time out instead.
    script.barriers = {"TermAnalysis": Barrier(3), "Extraction": Barrier(2)}
    script.delay_s = 0.01

    analyze(service, filters=["rustic", "family-run", "sourdough"])

    # Each stage waits for the ones its question names, so arrivals come in chain order...
    expected = [
        *["TermAnalysis"] * 3,
        "TermInteraction",
        "WeightedHierarchy",
        *["Extraction"] * len(SEO_GROUPS),
        "Decision",
        "PromptDraft",
    ]
    assert script.arrivals == expected
    # ...and the questions of one stage are in flight together.
    assert script.peak["TermAnalysis"] == 3 and script.peak["Extraction"] >= 2
    assert script.peak["TermInteraction"] == 1


def test_the_chain_is_returned_question_by_question(
    service: AssistantService, backend: ScriptedBackend
) -> None:
    config = analyze(service)

    stages = [step.stage for step in config.reasoning_chain]
    assert stages == [
        "term_analysis",
        "term_analysis",
        "term_interaction",
        "weighted_hierarchy",
        *(f"extraction.{group}" for group in SEO_GROUPS),
        "validation",
        "prompt_writing",
    ]
    # Each entry is the question as sent and the validated answer.
    sent = sorted(user_text(request) for request in backend.requests)
    assert sorted(step.question for step in config.reasoning_chain) == sent
    validation = config.reasoning_chain[-2].response
    assert set(validation) >= {"reasoning", "model_style", "maturity_level", "consistent"}
    assert all(step.llm_model == "scripted" and not step.cached for step in config.reasoning_chain)


def test_weights_goals_and_thresholds_reach_the_questions(
    service: AssistantService, backend: ScriptedBackend
) -> None:
    analyze(service)

    by_family: dict[str, list[str]] = {}
    for request in backend.requests:
        by_family.setdefault(family(request), []).append(user_text(request))
    hierarchy = by_family["WeightedHierarchy"][0]
    assert '"cultural": 0.9' in hierarchy and '"geographic": 0.1' in hierarchy
    assert '"seo"' in hierarchy
    extraction = "\n".join(by_family["Extraction"])
    for goal in ("style", "subject_count", "maturity_level", "lighting_style", "page_hook"):
        assert f'"goal": "{goal}"' in extraction
    assert "makes a visitor want to read the page" in extraction  # the custom goal's description
    assert '"minimumConfidence": 0.6' in by_family["Decision"][0]
    # The ranking can only name the instance's own factors.
    ranking = next(r for r in backend.requests if family(r) == "WeightedHierarchy")
    assert ranking.json_schema is not None
    items = ranking.json_schema["properties"]["ranked_factors"]["items"]
    assert set(items["enum"]) == set(example_instance()["factorWeights"])
    # The extraction answer types carry exactly the goals of their group.
    essential = next(r for r in backend.requests if r.schema_name == "Extraction_essential")
    assert essential.json_schema is not None
    assert set(essential.json_schema["properties"]) == {
        "reasoning",
        "style",
        "subject_count",
        "maturity_level",
    }


def test_novel_terms_go_through_the_same_generic_questions(
    service: AssistantService, backend: ScriptedBackend
) -> None:
    def term_questions(term: str) -> list[tuple[str, str]]:
        backend.requests.clear()
        analyze(service, filters=[term], cache=False)
        asked = [r for r in backend.requests if family(r) == "TermAnalysis"]
        return [
            (r.messages[0].content, user_text(r).replace(json.dumps(term), "<TERM>")) for r in asked
        ]

    known = term_questions("rustic")
    invented = term_questions("zorblaxian-glimmercore")

    # One question per term, word for word the same apart from the term itself.
    assert len(known) == 1 and known == invented
    assert "<TERM>" in known[0][1]


def test_a_malformed_answer_is_retried_then_the_stage_fails(
    service: AssistantService, script: StageScript, backend: ScriptedBackend
) -> None:
    script.answers["WeightedHierarchy"] = '{"reasoning": "cut off'

    with pytest.raises(StageFailed) as failure:
        analyze(service)

    assert failure.value.stage == "weighted_hierarchy"
    assert failure.value.cause_code == "llm_output_invalid"
    # One answer and one retry (output_retries=1); nothing after it was asked.
    asked = [family(r) for r in backend.requests]
    assert asked.count("WeightedHierarchy") == 2
    assert "Extraction" not in asked and "Decision" not in asked


def test_a_malformed_answer_followed_by_a_valid_one_is_used(
    service: AssistantService, script: StageScript
) -> None:
    valid = json.dumps(
        {
            "reasoning": "r",
            "ranked_factors": ["cultural", "category"],
            "leading_influence": "local character",
            "resolution": "weights decide",
        }
    )
    script.answers["WeightedHierarchy"] = ["not json at all", valid]

    config = analyze(service)

    hierarchy = next(s for s in config.reasoning_chain if s.stage == "weighted_hierarchy")
    assert hierarchy.response["resolution"] == "weights decide"


def test_model_selection_per_stage_and_the_request_override(service: AssistantService) -> None:
    instance = analyze_body()["instanceConfig"]
    instance["modelSelection"] = {
        "defaultModel": "scripted",
        "stageOverrides": {"validation": "scripted-large", "extraction.custom": "scripted-large"},
    }

    config = analyze(service, instanceConfig=instance)
    overridden = {s.stage for s in config.reasoning_chain if s.llm_model == "scripted-large"}
    assert overridden == {"validation", "extraction.custom"}

    config = analyze(service, instanceConfig=instance, llmModelId="scripted")
    assert {step.llm_model for step in config.reasoning_chain} == {"scripted"}


def test_the_shipped_chain_is_generic_and_checked() -> None:
    chain = load_chain()
    names = [stage.name for stage in chain.stages]
    assert names == [
        "term_analysis",
        "term_interaction",
        "weighted_hierarchy",
        "extraction",
        "validation",
    ]
    assert chain.prompt.name == "prompt_writing"
    # Questions name placeholders only; no quoted literal terms in the templates.
    for stage in [*chain.stages, chain.prompt]:
        assert not re.search(r'"[^"]+"', stage.question)


def test_a_chain_naming_what_it_cannot_see_is_refused(tmp_path: Any) -> None:
    data = load_chain().model_dump()
    data["stages"][0]["question"] = "What does {term} mean after {validation}?"
    path = tmp_path / "chain.yaml"
    path.write_text(json.dumps(data))

    with pytest.raises(AssistantConfigError, match=r"names validation, which it cannot see"):
        load_chain(path)
    data["stages"][0]["question"] = "What does {term!r} mean?"
    path.write_text(json.dumps(data))
    with pytest.raises(AssistantConfigError, match="plain name"):
        load_chain(path)
    assert isinstance(load_chain(), ChainSpec)
