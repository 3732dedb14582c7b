"""Prompt pipelines over HTTP with a scripted LLM: listing, error pages, SEO scenes, operators'."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from imajin.assistant.errors import AssistantConfigError
from imajin.assistant.pipeline_catalog import PipelineCatalog
from imajin.llm import CompletionRequest, ScriptedBackend
from imajin.safety import INDEXABLE_TERMS, LEGAL_SAFETY_TERMS, load_terms
from imajin.wiring import Platform
from tests.assistant.conftest import ServiceFactory, StageScript, user_text

KEEPER = "lighthouse keeper in a wool coat, calm smile, holding a lantern, watercolour"
OPERATOR_PIPELINE = """
id: menu-cards
name: Menu cards
description: Cards for a restaurant menu.
inputs:
  dish: {description: The dish to show., required: true}
permutations:
  plate: [white porcelain, slate board]
brief: "{dish} served on {plate}"
system: You write prompts for food photographs.
question: "Brief: {brief}. Write the image prompt for it."
output: {model: photorealistic, width: 1024, height: 1024}
"""


def expansion(prompt: str, style: str | None = "anime") -> str:
    answer = {"reasoning": "r", "prompt": prompt, "negative_terms": ["text overlay"]}
    if style is not None:
        answer["model_style"] = style
    return json.dumps(answer)


def test_pipelines_are_listed_and_shown(http: TestClient) -> None:
    listed = http.get("/pipelines").json()["pipelines"]
    assert [p["id"] for p in listed] == ["error-pages", "seo-location"]
    assert listed[1]["inputs"]["city"]["required"] is True

    shown = http.get("/pipelines/error-pages").json()
    assert {"permutations", "brief", "system", "question", "output"} <= set(shown)
    assert {"code", "scene", "motif", "style"} == set(shown["permutations"])
    assert shown["output"]["character"] is True and shown["output"]["negativeMode"] == "platform"

    missing = http.get("/pipelines/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "pipeline_not_found"


def test_error_pages_expand_into_adult_character_prompts(
    http: TestClient, script: StageScript, backend: ScriptedBackend
) -> None:
    script.answers["StyledExpansion"] = expansion(KEEPER)

    response = http.post(
        "/generate-prompts", json={"pipelineId": "error-pages", "count": 5, "seed": 7}
    )

    assert response.status_code == 200, response.text
    prompts = response.json()["prompts"]
    assert len(prompts) == 5
    juvenile = load_terms().character.juvenile_trait_negatives
    for index, prompt in enumerate(prompts):
        # The character guard made the keeper explicitly adult (SPEC §1.1).
        age = prompt["metadata"]["characterAge"]
        assert 22 <= age <= 35 and f"{age}-year-old" in prompt["prompt"]
        assert prompt["prompt"].endswith("clearly adult proportions")
        assert all(term in prompt["negativePrompt"] for term in juvenile)
        assert all(term in prompt["negativePrompt"] for term in LEGAL_SAFETY_TERMS)
        assert "text overlay" in prompt["negativePrompt"]
        assert prompt["model"] == "anime" and prompt["seed"] == 7 + index
        assert (prompt["width"], prompt["height"]) == (1344, 768)
    permutations = [json.dumps(p["metadata"]["permutation"]) for p in prompts]
    assert len(set(permutations)) == 5
    # Each brief reached the model as data, with its permutation in it.
    questions = [user_text(r) for r in backend.requests]
    for prompt in prompts:
        assert any(json.dumps(prompt["metadata"]["brief"]) in q for q in questions)


def test_the_seed_makes_permutations_reproducible_and_an_input_fixes_its_axis(
    http: TestClient,
) -> None:
    def permutations(**body: object) -> list[dict[str, str]]:
        response = http.post("/generate-prompts", json={"pipelineId": "error-pages", **body})
        return [p["metadata"]["permutation"] for p in response.json()["prompts"]]

    assert permutations(count=3, seed=11) == permutations(count=3, seed=11)
    assert permutations(count=3, seed=11) != permutations(count=3, seed=12)
    fixed = permutations(count=4, seed=3, inputs={"code": "404"})
    assert {p["code"] for p in fixed} == {"404"}


def test_seo_location_gives_indexable_photographs(http: TestClient, script: StageScript) -> None:
    script.answers["Expansion"] = expansion("bakery storefront in Lyon, morning", style=None)

    missing = http.post("/generate-prompts", json={"pipelineId": "seo-location"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "inputs.category"
    unknown = http.post(
        "/generate-prompts",
        json={"pipelineId": "seo-location", "inputs": {"category": "x", "city": "y", "mood": 1}},
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "inputs.mood"

    body = {"pipelineId": "seo-location", "inputs": {"category": "bakery", "city": "Lyon"}}
    [prompt] = http.post("/generate-prompts", json=body).json()["prompts"]

    assert prompt["model"] == "photorealistic" and (prompt["width"], prompt["height"]) == (
        1216,
        832,
    )
    assert all(term in prompt["negativePrompt"] for term in INDEXABLE_TERMS)
    assert "Lyon" in prompt["metadata"]["brief"] and "bakery" in prompt["metadata"]["brief"]


def test_a_blocked_expansion_is_written_again_then_reported(
    http: TestClient, script: StageScript
) -> None:
    body = {"pipelineId": "seo-location", "inputs": {"category": "beach", "city": "Nice"}}
    script.answers["Expansion"] = [expansion("nude teen", None), expansion("sunny promenade", None)]
    [prompt] = http.post("/generate-prompts", json=body).json()["prompts"]
    assert prompt["prompt"] == "sunny promenade" and prompt["metadata"]["regenerated"] is True

    script.answers["Expansion"] = expansion("nude teen", None)
    response = http.post("/generate-prompts", json={**body, "cache": False})
    assert response.status_code == 502
    assert response.json()["error"]["stage"] == "pipeline.seo-location"


def test_character_pipelines_refuse_a_minor_character(
    http: TestClient, script: StageScript
) -> None:
    script.answers["StyledExpansion"] = expansion("a 12-year-old girl at a desk")

    response = http.post("/generate-prompts", json={"pipelineId": "error-pages", "seed": 1})

    assert response.status_code == 502
    assert response.json()["error"]["reason"] == "minor_character"


def test_operators_add_pipelines_in_the_data_folder(
    http: TestClient,
    assistant_platform: Platform,
    make_service: ServiceFactory,
    script: StageScript,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "operator-pipelines"
    folder.mkdir()
    object.__setattr__(assistant_platform, "assistant", make_service(operator_dir=folder))
    assert "menu-cards" not in [p["id"] for p in http.get("/pipelines").json()["pipelines"]]

    (folder / "menu.yaml").write_text(OPERATOR_PIPELINE)
    listed = [p["id"] for p in http.get("/pipelines").json()["pipelines"]]
    assert listed == ["error-pages", "menu-cards", "seo-location"]

    def respond(request: CompletionRequest) -> str:
        return expansion("ratatouille, " + user_text(request)[:20], style=None)

    script.answers["Expansion"] = respond
    body = {"pipelineId": "menu-cards", "inputs": {"dish": "ratatouille"}, "count": 2, "seed": 0}
    prompts = http.post("/generate-prompts", json=body).json()["prompts"]
    assert {p["metadata"]["permutation"]["plate"] for p in prompts} == {
        "white porcelain",
        "slate board",
    }


def test_invalid_pipeline_files_fail_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(OPERATOR_PIPELINE.replace("{plate}", "{platter}"))

    with pytest.raises(AssistantConfigError, match=r"broken\.yaml.*platter"):
        PipelineCatalog(operator_dir=tmp_path)

    (tmp_path / "broken.yaml").write_text(OPERATOR_PIPELINE)
    (tmp_path / "twin.yaml").write_text(OPERATOR_PIPELINE)
    with pytest.raises(AssistantConfigError, match=re.escape("both have id 'menu-cards'")):
        PipelineCatalog(operator_dir=tmp_path)
