"""The prompt assistant (SPEC §4.1): pipelines, generate-prompts, analyze-context.

Paths are S1's, at the root of the app, so its clients keep working. The service
(``AssistantDep``) is built by :func:`imajin.assistant.build_assistant`.
"""

from __future__ import annotations

from fastapi import APIRouter

from imajin.api.auth import GenerateAccess, ReadAccess
from imajin.api.deps import AssistantDep
from imajin.api.openapi import error_responses
from imajin.contracts.assistant import (
    AnalyzeContextRequest,
    GeneratePromptsRequest,
    GeneratePromptsResponse,
    GenerationConfig,
    PipelineList,
    PipelineSpec,
)

router = APIRouter(tags=["assistant"])


@router.get(
    "/pipelines",
    response_model=PipelineList,
    dependencies=[ReadAccess],
    summary="List prompt pipelines",
)
def list_pipelines(assistant: AssistantDep) -> PipelineList:
    return PipelineList(pipelines=assistant.list_pipelines())


@router.get(
    "/pipelines/{pipeline_id}",
    response_model=PipelineSpec,
    dependencies=[ReadAccess],
    responses=error_responses(404),
    summary="One prompt pipeline: inputs, permutation data, templates, output",
)
def get_pipeline(pipeline_id: str, assistant: AssistantDep) -> PipelineSpec:
    return assistant.get_pipeline(pipeline_id)


@router.post(
    "/generate-prompts",
    response_model=GeneratePromptsResponse,
    dependencies=[GenerateAccess],
    responses=error_responses(404, 502, 503),  # 404: pipeline; 502/503: the LLM
    summary="Run a pipeline: permutations expanded by the LLM into checked prompts",
)
async def generate_prompts(
    body: GeneratePromptsRequest, assistant: AssistantDep
) -> GeneratePromptsResponse:
    return await assistant.generate_prompts(body)


@router.post(
    "/analyze-context",
    response_model=GenerationConfig,
    dependencies=[GenerateAccess],
    responses=error_responses(404, 502, 503),  # 404: instance; 502/503: the LLM
    summary="Reason about a page's context: style, maturity, goals, prompt, and the chain",
)
async def analyze_context(body: AnalyzeContextRequest, assistant: AssistantDep) -> GenerationConfig:
    return await assistant.analyze_context(body)
