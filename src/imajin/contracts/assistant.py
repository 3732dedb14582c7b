"""The prompt assistant's HTTP contract (SPEC §4.1, §4.3), camelCase on the wire.

Requests refuse unknown keys, so a misspelt field fails loudly; responses ignore
them, so an older :mod:`imajin.client` keeps reading a newer server. The server
(:mod:`imajin.assistant`) re-exports these and adds the catalogues and the chain.
"""

from __future__ import annotations

import re
import string
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from imajin.contracts.common import WholeFloat
from imajin.contracts.maturity import LegacyMaturityLevel, MaturityLevel, MaturityPolicy

__all__ = [
    "AnalyzeContextRequest",
    "CamelModel",
    "ChainStep",
    "GeneratePromptsRequest",
    "GeneratePromptsResponse",
    "GenerationConfig",
    "GoalRequest",
    "InstanceConfig",
    "MaturityRange",
    "ModelSelection",
    "ModelStyle",
    "NegativeMode",
    "ParsedPrompt",
    "PipelineInput",
    "PipelineList",
    "PipelineOutput",
    "PipelineSpec",
    "PipelineSummary",
    "placeholders",
]

ModelStyle = Literal["photorealistic", "anime"]
"""A model's style; callers resolve a model id to its style."""
NegativeMode = Literal["platform", "indexable"]
"""``platform``: legal + quality terms; ``indexable``: also SafeSearch terms."""


def placeholders(template: str) -> list[str]:
    """The ``{name}`` placeholders of ``template``, in order.

    Raises:
        ValueError: The template is malformed or uses indexing or conversions.
    """
    names = []
    for _text, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{name}}} must be a plain name")
        names.append(name)
    return names


class CamelModel(BaseModel):
    """Base of the wire and configuration models: camelCase keys, snake_case accepted."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
    )


GOAL_NAME = r"^[a-z][a-z0-9_]{0,49}$"
Weight = Annotated[StrictFloat, Field(ge=0.0, le=1.0)]
Threshold = float | int | bool | str


class GoalRequest(CamelModel):
    """One extraction goal an instance asks for, by name, with optional refinements."""

    name: str = Field(pattern=GOAL_NAME, description="A known goal's name, or a new goal's.")
    description: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="What to decide; required for a goal imajin does not know.",
    )
    allowed_values: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        None, min_length=1, max_length=50, description="The only values the answer may take."
    )
    group: str | None = Field(
        None,
        pattern=GOAL_NAME,
        description="For a new goal, the group it is asked in (default: custom).",
    )


class ModelSelection(CamelModel):
    """Which configured LLM answers which stage; a request's ``llmModelId`` overrides both."""

    default_model: str | None = Field(
        None, description="LLM model id for every stage; None: the configured default model."
    )
    stage_overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Stage name (term_analysis, extraction, extraction.<group>, ...) to model id.",
    )


class InstanceConfig(CamelModel):
    """An instance configuration in the SPEC §4.3 schema."""

    instance_name: str = Field(min_length=1, max_length=100, description="Names the instance.")
    factor_weights: dict[str, Weight] = Field(
        min_length=1,
        max_length=50,
        description="Factor name to weight, 0 (ignore) to 1 (decisive).",
        # The names `_named_factors` accepts, said in the schema.
        json_schema_extra={"propertyNames": {"pattern": r"\S", "maxLength": 100}},
    )
    extraction_goals: list[GoalRequest] = Field(
        min_length=1, max_length=60, description="Goals to extract: names or objects."
    )
    model_selection: ModelSelection = Field(
        default_factory=ModelSelection, description="Model per stage."
    )
    maturity_policy: MaturityPolicy = Field(description="The maturity band this instance allows.")
    thresholds: dict[str, Threshold] = Field(
        default_factory=dict, description="Instance-owned thresholds, shown to the model."
    )

    @field_validator("extraction_goals", mode="before")
    @classmethod
    def _names_are_goals(cls, goals: Any) -> Any:
        # A bare name is shorthand for {name: <name>}.
        if isinstance(goals, list):
            return [{"name": goal} if isinstance(goal, str) else goal for goal in goals]
        return goals

    @field_validator("extraction_goals")
    @classmethod
    def _unique_goals(cls, goals: list[GoalRequest]) -> list[GoalRequest]:
        names = [goal.name for goal in goals]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"goals are listed more than once: {', '.join(repeated)}")
        if "reasoning" in names:
            raise ValueError("`reasoning` is reserved for the model's reasoning; rename the goal")
        return goals

    @field_validator("factor_weights")
    @classmethod
    def _named_factors(cls, weights: dict[str, float]) -> dict[str, float]:
        blank = [name for name in weights if not name.strip() or len(name) > 100]
        if blank:
            raise ValueError("factor names must be 1 to 100 characters")
        return weights


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
    instance_yaml: str | None = Field(
        None,
        min_length=1,
        max_length=100_000,
        description="Or: an instance configuration as YAML text (a pasted instance file).",
    )
    llm_model_id: str | None = Field(None, description="LLM model for every stage.")
    cache: StrictBool = Field(True, description="false: ask the LLM afresh (answers still stored).")


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
    count: Annotated[StrictInt, Field(ge=1), WholeFloat] = Field(
        1, description="How many prompts (capped by configuration)."
    )
    seed: Annotated[StrictInt | None, Field(ge=0), WholeFloat] = Field(
        None, description="Makes the permutations reproducible."
    )
    llm_model_id: str | None = None
    cache: StrictBool = Field(True, description="false: ask the LLM afresh (answers still stored).")


class GeneratePromptsResponse(_Response):
    """``POST /generate-prompts``' answer."""

    prompts: list[ParsedPrompt]


PIPELINE_NAME = r"^[a-z][a-z0-9_]{0,49}$"
Value = Annotated[str, Field(min_length=1, max_length=300)]


class PipelineInput(CamelModel):
    """An input a caller may (or must) give; an input named like an axis fixes that axis."""

    description: str = Field(min_length=1, description="What the input is.")
    required: bool = Field(False, description="Whether a request must give it.")
    default: str | None = Field(None, description="Used when a request leaves it out.")


class PipelineOutput(CamelModel):
    """What the produced prompts look like."""

    model: ModelStyle | None = Field(
        None, description="Image model style; None lets the LLM choose one per prompt."
    )
    negative_mode: NegativeMode = Field("platform", description="platform or indexable.")
    width: int | None = Field(None, ge=64, le=4096, description="Image width in pixels.")
    height: int | None = Field(None, ge=64, le=4096, description="Image height in pixels.")
    character: bool = Field(
        False, description="Prompts depict a person: apply the adult-character guard (§1.1)."
    )


class PipelineSummary(CamelModel):
    """A pipeline as ``GET /pipelines`` lists it."""

    id: str
    name: str
    description: str
    inputs: dict[str, PipelineInput]


class PipelineSpec(PipelineSummary):
    """A whole pipeline file."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="Used in requests.")
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1)
    inputs: dict[str, PipelineInput] = Field(default_factory=dict)
    permutations: dict[str, Annotated[list[Value], Field(min_length=1)]] = Field(
        default_factory=dict, description="Axis name to values; one value per axis per prompt."
    )
    brief: str = Field(min_length=1, description="Template of the brief: names inputs and axes.")
    system: str = Field(min_length=1, description="The LLM's instructions for expanding a brief.")
    question: str = Field(min_length=1, description="Template of the question: names {brief}.")
    output: PipelineOutput = Field(default_factory=PipelineOutput)

    @model_validator(mode="after")
    def _templates_name_what_exists(self) -> Self:
        for name in [*self.inputs, *self.permutations]:
            if not re.fullmatch(PIPELINE_NAME, name):
                raise ValueError(f"input or axis name {name!r} must match {PIPELINE_NAME}")
        # A template may name an optional input only when something fills it in.
        known = {
            name for name, spec in self.inputs.items() if spec.required or spec.default is not None
        } | set(self.permutations)
        for template, allowed in ((self.brief, known), (self.question, known | {"brief"})):
            unknown = [name for name in placeholders(template) if name not in allowed]
            if unknown:
                raise ValueError(
                    f"template names {', '.join(unknown)}; it may name {', '.join(sorted(allowed))}"
                    " (axes, and inputs that are required or have a default)"
                )
        return self

    def summary(self) -> PipelineSummary:
        """The listing entry."""
        return PipelineSummary(
            id=self.id, name=self.name, description=self.description, inputs=self.inputs
        )


class PipelineList(BaseModel):
    """``GET /pipelines``: every pipeline, shipped and the operator's."""

    pipelines: list[PipelineSummary]
