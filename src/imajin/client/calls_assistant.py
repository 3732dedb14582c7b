"""The prompt assistant's endpoints (SPEC §4.1): pipelines, generate-prompts, analyze-context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from pydantic import BaseModel

from imajin.client.call import Call, json_as, segment
from imajin.contracts.assistant import (
    AnalyzeContextRequest,
    GeneratePromptsRequest,
    GeneratePromptsResponse,
    GenerationConfig,
    InstanceConfig,
    MaturityRange,
    ParsedPrompt,
    PipelineList,
    PipelineSpec,
    PipelineSummary,
)

__all__ = [
    "analyze_context",
    "generate_prompts",
    "get_pipeline",
    "list_pipelines",
    "send_analyze_context",
    "send_generate_prompts",
]


def _body(model: BaseModel) -> dict[str, Any]:
    # None means "not given" in these requests (the server fills it in).
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _pipelines(response: httpx.Response) -> list[PipelineSummary]:
    return PipelineList.model_validate(response.json()).pipelines


def _prompts(response: httpx.Response) -> list[ParsedPrompt]:
    return GeneratePromptsResponse.model_validate(response.json()).prompts


def list_pipelines() -> Call[list[PipelineSummary]]:
    """``GET /pipelines``: every pipeline, shipped and the operator's."""
    return Call("GET", "/pipelines", _pipelines)


def get_pipeline(pipeline_id: str) -> Call[PipelineSpec]:
    """``GET /pipelines/{pipeline_id}``: one whole pipeline."""
    return Call("GET", f"/pipelines/{segment(pipeline_id)}", json_as(PipelineSpec))


def generate_prompts(
    pipeline_id: str,
    *,
    inputs: Mapping[str, str | int | float | bool] | None = None,
    count: int = 1,
    seed: int | None = None,
    llm_model_id: str | None = None,
    cache: bool = True,
) -> Call[list[ParsedPrompt]]:
    """``POST /generate-prompts``: ``count`` prompts from a pipeline."""
    request = GeneratePromptsRequest(
        pipeline_id=pipeline_id,
        inputs=dict(inputs or {}),
        count=count,
        seed=seed,
        llm_model_id=llm_model_id,
        cache=cache,
    )
    return send_generate_prompts(request)


def send_generate_prompts(request: GeneratePromptsRequest) -> Call[list[ParsedPrompt]]:
    """``POST /generate-prompts`` with a request already built."""
    return Call("POST", "/generate-prompts", _prompts, json=_body(request))


def analyze_context(
    category: str,
    *,
    city: str | None = None,
    filters: Sequence[str] = (),
    maturity: MaturityRange | Mapping[str, str] | None = None,
    instance_config: InstanceConfig | Mapping[str, Any] | None = None,
    instance: str | None = None,
    instance_yaml: str | None = None,
    llm_model_id: str | None = None,
    cache: bool = True,
) -> Call[GenerationConfig]:
    """``POST /analyze-context``: the reasoning chain's GenerationConfig.

    Mappings are validated here, before anything is sent.
    """
    request = AnalyzeContextRequest(
        category=category,
        city=city,
        filters=list(filters),
        maturity=MaturityRange.model_validate(maturity) if maturity is not None else None,
        instance_config=(
            InstanceConfig.model_validate(instance_config) if instance_config is not None else None
        ),
        instance=instance,
        instance_yaml=instance_yaml,
        llm_model_id=llm_model_id,
        cache=cache,
    )
    return send_analyze_context(request)


def send_analyze_context(request: AnalyzeContextRequest) -> Call[GenerationConfig]:
    """``POST /analyze-context`` with a request already built."""
    return Call("POST", "/analyze-context", json_as(GenerationConfig), json=_body(request))
