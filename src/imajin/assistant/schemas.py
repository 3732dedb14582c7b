"""The assistant's HTTP contract (SPEC §4.1), camelCase on the wire.

Requests refuse unknown keys, so a misspelt field fails loudly; responses ignore
them, so an older :mod:`imajin.client` keeps reading a newer server.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field

from imajin.assistant.instance import CamelModel, InstanceConfig
from imajin.safety.maturity import LegacyMaturityLevel, MaturityLevel

__all__ = [
    "AnalyzeContextRequest",
    "ChainStep",
    "GeneratePromptsRequest",
    "GeneratePromptsResponse",
    "GenerationConfig",
    "MaturityRange",
    "ParsedPrompt",
]

InputValue = str | int | float | bool
Filter = Annotated[str, Field(min_length=1, max_length=100)]


class _Response(CamelModel):
    model_config = ConfigDict(extra="ignore")


class MaturityRange(CamelModel):
    """The caller's maturity wishes; any left out come from the instance policy."""

    minimum_rating: LegacyMaturityLevel | None = Field(None, description="Lowest level allowed.")
    expected_rating: LegacyMaturityLevel | None = Field(None, description="The level expected.")
    maximum_rating: LegacyMaturityLevel | None = Field(None, description="Highest level allowed.")


class AnalyzeContextRequest(CamelModel):
    """``POST /analyze-context``: a page's context to reason about."""

    category: str = Field(min_length=1, max_length=200, description="What the page is about.")
    city: str | None = Field(None, min_length=1, max_length=200, description="Where, if local.")
    filters: list[Filter] = Field(
        default_factory=list, description="Filter terms; any words, known or new."
    )
    maturity: MaturityRange | None = Field(None, description="Minimum, expected and maximum.")
    instance_config: InstanceConfig | None = Field(
        None, description="The caller's instance configuration (SPEC §4.3)."
    )
    instance: str | None = Field(
        None, min_length=1, description="Or: the name of one under assistant.instances."
    )
    llm_model_id: str | None = Field(None, description="LLM model for every stage.")
    cache: bool = Field(True, description="false: ask the LLM afresh (answers still stored).")


class ParsedPrompt(_Response):
    """One prompt ready for the engine."""

    prompt: str
    negative_prompt: str
    model: str = Field(description="Image model style: photorealistic or anime.")
    width: int | None = None
    height: int | None = None
    seed: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class ChainStep(_Response):
    """One question of the reasoning chain and the model's answer."""

    stage: str
    question: str
    response: dict[str, Any]
    llm_model: str = Field(description="The LLM model id that answered.")
    cached: bool = Field(description="Served from the answer cache.")
    duration_ms: float = Field(description="Time to the answer (cache look-up included).")


class GenerationConfig(_Response):
    """``POST /analyze-context``'s answer: how to generate the page's image, and why."""

    model: str = Field(description="Image model style: photorealistic or anime.")
    maturity_level: MaturityLevel
    maturity_clamped: bool = Field(description="The decided level was moved into the band.")
    prompts: list[ParsedPrompt]
    extracted: dict[str, Any] = Field(description="Goal name to value.")
    reasoning: str
    reasoning_chain: list[ChainStep]
    instance_name: str


class GeneratePromptsRequest(CamelModel):
    """``POST /generate-prompts``: run a pipeline."""

    pipeline_id: str = Field(min_length=1, max_length=100)
    inputs: dict[str, InputValue] = Field(default_factory=dict)
    count: int = Field(1, ge=1, description="How many prompts (capped by configuration).")
    seed: int | None = Field(None, ge=0, description="Makes the permutations reproducible.")
    llm_model_id: str | None = None
    cache: bool = Field(True, description="false: ask the LLM afresh (answers still stored).")


class GeneratePromptsResponse(_Response):
    """``POST /generate-prompts``' answer."""

    prompts: list[ParsedPrompt]
