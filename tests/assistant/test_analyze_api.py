"""``POST /analyze-context`` over HTTP with a scripted LLM: contract, instances, maturity, cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from imajin.assistant import GenerationConfig
from imajin.llm import ScriptedBackend
from imajin.safety import LEGAL_SAFETY_TERMS
from imajin.wiring import Platform
from tests.assistant.conftest import (
    EXAMPLES,
    ServiceFactory,
    StageScript,
    analyze_body,
    example_instance,
    family,
    user_text,
)


def decision(level: str, style: str = "photorealistic") -> str:
    return json.dumps(
        {
            "reasoning": "decided",
            "consistent": True,
            "issues": [],
            "model_style": style,
            "maturity_level": level,
            "confidence": 0.8,
        }
    )


def draft(prompt: str) -> str:
    return json.dumps({"reasoning": "r", "prompt": prompt, "negative_terms": ["clutter"]})


def test_analyze_context_returns_a_complete_generation_config(
    http: TestClient, script: StageScript
) -> None:
    script.answers["Decision"] = decision("sfw", "anime")
    script.answers["PromptDraft"] = draft("warm bakery counter, sourdough loaves, morning light")

    response = http.post("/analyze-context", json=analyze_body())

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {
        "model",
        "maturityLevel",
        "maturityClamped",
        "prompts",
        "extracted",
        "reasoning",
        "reasoningChain",
    }
    config = GenerationConfig.model_validate(body)
    assert config.model == "anime" and config.maturity_level == "sfw"
    assert not config.maturity_clamped and config.reasoning == "decided"
    [prompt] = body["prompts"]
    assert prompt["prompt"] == "warm bakery counter, sourdough loaves, morning light"
    assert prompt["model"] == "anime"
    negative = prompt["negativePrompt"]
    # The model's extra negatives, the SafeSearch terms (sfw), and legal safety always.
    assert "clutter" in negative and "nudity" in negative
    assert all(term in negative for term in LEGAL_SAFETY_TERMS)
    assert set(config.extracted) >= {"style", "subject_count", "maturity_level", "page_hook"}
    assert {"stage", "question", "response"} <= set(body["reasoningChain"][0])


def test_without_an_instance_config_it_is_422_saying_how_to_send_one(
    http: TestClient, backend: ScriptedBackend
) -> None:
    body = analyze_body()
    del body["instanceConfig"]

    response = http.post("/analyze-context", json=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "instance_config_missing" and error["field"] == "instanceConfig"
    assert (
        "instanceConfig" in error["message"] and "examples/instances/seo.yaml" in error["message"]
    )
    assert backend.requests == []


def test_an_invalid_instance_config_is_422_naming_the_key(http: TestClient) -> None:
    instance = example_instance()
    instance["factorWeights"]["cultural"] = 1.5
    response = http.post("/analyze-context", json=analyze_body(instanceConfig=instance))
    assert response.status_code == 422
    assert response.json()["error"]["field"].endswith("factorWeights.cultural")

    instance = example_instance()
    instance["extractionGoals"].append("vibe_factor")
    response = http.post("/analyze-context", json=analyze_body(instanceConfig=instance))
    assert response.status_code == 422
    assert "give it a description" in response.json()["error"]["message"]


def test_a_pasted_instance_yaml_is_parsed_like_an_instance_config(
    http: TestClient, backend: ScriptedBackend
) -> None:
    body = analyze_body()
    del body["instanceConfig"]
    text = (EXAMPLES / "gallery.yaml").read_text(encoding="utf-8")

    pasted = http.post("/analyze-context", json={**body, "instanceYaml": text})
    assert pasted.status_code == 200, pasted.text
    assert pasted.json()["instanceName"] == example_instance("gallery")["instanceName"]

    asked = len(backend.requests)
    broken = http.post("/analyze-context", json={**body, "instanceYaml": "instanceName: [x"})
    assert broken.status_code == 422
    error = broken.json()["error"]
    assert error["field"] == "instanceYaml" and "line 1" in error["message"]
    invalid = http.post("/analyze-context", json={**body, "instanceYaml": "instanceName: x\n"})
    assert invalid.status_code == 422
    assert invalid.json()["error"]["field"].startswith("instanceYaml")
    both = http.post(
        "/analyze-context",
        json={**body, "instanceYaml": text, "instanceConfig": example_instance()},
    )
    assert both.status_code == 422 and "`instanceConfig` and `instanceYaml`" in both.text
    assert len(backend.requests) == asked  # nothing reached the LLM


def test_instances_by_name_from_the_deployers_config(
    http: TestClient, assistant_platform: Platform, make_service: ServiceFactory
) -> None:
    inline = example_instance("gallery")
    service = make_service(
        instances={"seo": EXAMPLES / "seo.yaml", "gallery": inline}, default="seo"
    )
    object.__setattr__(assistant_platform, "assistant", service)
    body = analyze_body()
    del body["instanceConfig"]

    assert http.post("/analyze-context", json=body).json()["instanceName"] == "seo"
    named = http.post("/analyze-context", json={**body, "instance": "gallery"})
    assert named.json()["instanceName"] == "gallery"
    unknown = http.post("/analyze-context", json={**body, "instance": "nope"})
    assert unknown.status_code == 422 and "gallery, seo" in unknown.json()["error"]["message"]


def test_the_decided_level_is_clamped_into_the_band_and_says_so(
    http: TestClient, script: StageScript
) -> None:
    # The SEO instance allows sfw to suggestive; the model decides explicit_nude.
    script.answers["Decision"] = decision("explicit_nude")
    body = http.post("/analyze-context", json=analyze_body()).json()
    assert body["maturityLevel"] == "suggestive" and body["maturityClamped"] is True
    assert "clamped to suggestive" in body["reasoning"]
    assert body["extracted"]["maturity_level"] == "suggestive"

    # The request narrows the gallery's band to mature..mature; sfw is raised into it.
    script.answers["Decision"] = decision("sfw")
    maturity = {"minimumRating": "mature", "maximumRating": "mature"}
    gallery = analyze_body(instanceConfig=example_instance("gallery"), maturity=maturity)
    body = http.post("/analyze-context", json=gallery).json()
    assert body["maturityLevel"] == "mature" and body["maturityClamped"] is True

    # Legacy S1 values are accepted; a level inside the band is left alone.
    script.answers["Decision"] = decision("explicit_nude")
    gallery["maturity"] = {"maximumRating": "explicit"}
    body = http.post("/analyze-context", json=gallery).json()
    assert body["maturityLevel"] == "explicit_nude" and body["maturityClamped"] is False


def test_a_repeat_request_is_served_from_the_cache(
    http: TestClient, backend: ScriptedBackend
) -> None:
    first = http.post("/analyze-context", json=analyze_body()).json()
    asked = len(backend.requests)

    again = http.post("/analyze-context", json=analyze_body()).json()

    assert len(backend.requests) == asked  # no question reached the LLM
    assert all(step["cached"] for step in again["reasoningChain"])
    strip = ("cached", "durationMs")

    def answers(body: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in s.items() if k not in strip} for s in body["reasoningChain"]]

    assert answers(again) == answers(first) and again["prompts"] == first["prompts"]

    fresh = http.post("/analyze-context", json=analyze_body(cache=False)).json()
    assert len(backend.requests) == 2 * asked
    assert not any(step["cached"] for step in fresh["reasoningChain"])

    # Another model is another key: nothing is served across models.
    http.post("/analyze-context", json=analyze_body(llmModelId="scripted-large"))
    assert len(backend.requests) == 3 * asked


def test_without_the_cache_setting_nothing_is_stored(
    http: TestClient,
    assistant_platform: Platform,
    make_service: ServiceFactory,
    backend: ScriptedBackend,
) -> None:
    object.__setattr__(assistant_platform, "assistant", make_service(cache=False))
    http.post("/analyze-context", json=analyze_body())
    asked = len(backend.requests)
    http.post("/analyze-context", json=analyze_body())
    assert len(backend.requests) == 2 * asked


def test_blocked_inputs_are_422_before_any_question(
    http: TestClient, backend: ScriptedBackend
) -> None:
    response = http.post("/analyze-context", json=analyze_body(filters=["cosy", "nude teen"]))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "policy_violation" and error["field"] == "filters.1"
    assert backend.requests == []


def test_a_blocked_prompt_is_written_again_then_reported(
    http: TestClient, script: StageScript, backend: ScriptedBackend
) -> None:
    script.answers["PromptDraft"] = [draft("nude teen on a beach"), draft("sunlit bakery")]
    body = http.post("/analyze-context", json=analyze_body()).json()
    assert body["prompts"][0]["prompt"] == "sunlit bakery"
    assert body["prompts"][0]["metadata"]["regenerated"] is True
    redo = [user_text(r) for r in backend.requests if family(r) == "PromptDraft"][-1]
    assert 'refused by the content policy, reason "minor_sexual"' in redo

    script.answers["PromptDraft"] = draft("nude teen on a beach")
    response = http.post("/analyze-context", json=analyze_body(cache=False))
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "expansion_blocked" and error["stage"] == "prompt_writing"
    assert error["reason"] == "minor_sexual"


def test_a_stage_without_a_valid_answer_is_502_naming_it(
    http: TestClient, script: StageScript
) -> None:
    script.answers["TermInteraction"] = "I think the terms go well together."

    response = http.post("/analyze-context", json=analyze_body())

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "reasoning_stage_failed" and error["stage"] == "term_interaction"
    assert error["cause"] == "llm_output_invalid"


def test_unknown_models_and_stages_are_422(http: TestClient) -> None:
    response = http.post("/analyze-context", json=analyze_body(llmModelId="gpt-nothing"))
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_llm_model"

    instance = example_instance()
    instance["modelSelection"] = {"stageOverrides": {"daydreaming": "scripted"}}
    response = http.post("/analyze-context", json=analyze_body(instanceConfig=instance))
    assert response.status_code == 422
    assert "term_analysis" in response.json()["error"]["message"]


def test_request_validation_names_fields(http: TestClient, tmp_path: Path) -> None:
    response = http.post("/analyze-context", json=analyze_body(category=""))
    assert response.status_code == 422 and response.json()["error"]["field"] == "category"
    response = http.post("/analyze-context", json=analyze_body(maturity={"maximumRating": "spicy"}))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "maturity.maximumRating"
    response = http.post("/analyze-context", json=analyze_body(filters=["x"] * 21))
    assert response.status_code == 422 and response.json()["error"]["field"] == "filters"
