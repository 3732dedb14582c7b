"""Each endpoint as a :class:`Call`: what to send and what the answer parses into.

The sync and async clients share these, so an endpoint is described once and each
client only sends. Later issues add their endpoints here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict

from imajin.assistant.instance import InstanceConfig
from imajin.assistant.pipeline_catalog import PipelineSpec, PipelineSummary
from imajin.assistant.schemas import (
    AnalyzeContextRequest,
    GeneratePromptsRequest,
    GeneratePromptsResponse,
    GenerationConfig,
    MaturityRange,
    ParsedPrompt,
)
from imajin.client.errors import ImajinAPIError

__all__ = [
    "Call",
    "Health",
    "analyze_context",
    "generate_prompts",
    "get_pipeline",
    "health",
    "list_pipelines",
    "send_analyze_context",
    "send_generate_prompts",
]

T = TypeVar("T")


class Health(BaseModel):
    """``GET /health``: the platform's state; unknown keys are kept (``storage``, ``llm``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    status: str
    service: str
    version: str
    database: str | None = None
    llm: dict[str, Any] | None = None


class _PipelineList(BaseModel):
    pipelines: list[PipelineSummary]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how to read its successful answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    json: dict[str, Any] | None = None
    ok: tuple[int, ...] = (200,)

    def result(self, response: httpx.Response) -> T:
        """The parsed answer.

        Raises:
            ImajinAPIError: The server answered with another status.
        """
        if response.status_code not in self.ok:
            raise ImajinAPIError.from_response(response)
        return self.parse(response.json())


def _body(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def health() -> Call[Health]:
    """``GET /health`` (a degraded platform answers 503 with the same body)."""
    return Call("GET", "/health", Health.model_validate, ok=(200, 503))


def list_pipelines() -> Call[list[PipelineSummary]]:
    """``GET /pipelines``."""
    return Call("GET", "/pipelines", lambda data: _PipelineList.model_validate(data).pipelines)


def get_pipeline(pipeline_id: str) -> Call[PipelineSpec]:
    """``GET /pipelines/{id}``."""
    return Call("GET", f"/pipelines/{pipeline_id}", PipelineSpec.model_validate)


def generate_prompts(
    pipeline_id: str,
    *,
    inputs: Mapping[str, str | int | float | bool] | None = None,
    count: int = 1,
    seed: int | None = None,
    llm_model_id: str | None = None,
    cache: bool = True,
) -> Call[list[ParsedPrompt]]:
    """``POST /generate-prompts``."""
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
    return Call(
        "POST",
        "/generate-prompts",
        lambda data: GeneratePromptsResponse.model_validate(data).prompts,
        json=_body(request),
    )


def analyze_context(
    category: str,
    *,
    city: str | None = None,
    filters: Sequence[str] = (),
    maturity: MaturityRange | Mapping[str, str] | None = None,
    instance_config: InstanceConfig | Mapping[str, Any] | None = None,
    instance: str | None = None,
    llm_model_id: str | None = None,
    cache: bool = True,
) -> Call[GenerationConfig]:
    """``POST /analyze-context``; mappings are validated here, before anything is sent."""
    request = AnalyzeContextRequest(
        category=category,
        city=city,
        filters=list(filters),
        maturity=MaturityRange.model_validate(maturity) if maturity is not None else None,
        instance_config=(
            InstanceConfig.model_validate(instance_config) if instance_config is not None else None
        ),
        instance=instance,
        llm_model_id=llm_model_id,
        cache=cache,
    )
    return send_analyze_context(request)


def send_analyze_context(request: AnalyzeContextRequest) -> Call[GenerationConfig]:
    """``POST /analyze-context`` with a request already built."""
    return Call("POST", "/analyze-context", GenerationConfig.model_validate, json=_body(request))
