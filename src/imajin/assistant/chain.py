"""The reasoning chain as data: ``chain.yaml`` parsed, checked, and its questions rendered.

A chain is a system message, stages (each a question template; ``for_each`` makes
one question per filter or per goal group) and the final ``prompt`` stage. A
stage depends on the earlier stages its question names, which is what lets
independent stages run concurrently (:mod:`imajin.assistant.reasoning`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from imajin.assistant.answers import (
    Decision,
    PromptDraft,
    TermAnalysis,
    TermInteraction,
    WeightedHierarchy,
)
from imajin.assistant.data_files import parse_data_file
from imajin.assistant.errors import AssistantConfigError
from imajin.contracts.assistant import placeholders

__all__ = [
    "CONTEXT_PLACEHOLDERS",
    "DECISION_PLACEHOLDERS",
    "EXTRACTION_ANSWER",
    "FIXED_ANSWERS",
    "ChainSpec",
    "StageSpec",
    "load_chain",
    "placeholders",
    "render",
]

ForEach = Literal["filter", "goal_group"]

CONTEXT_PLACEHOLDERS = frozenset(
    {
        "category",
        "city",
        "filters",
        "expected_maturity",
        "maturity_band",
        "maturity_scale",
        "instance_name",
        "weights",
        "thresholds",
        "goals",
        "model_styles",
    }
)
"""What every question may name: the request and the instance, rendered as JSON."""
ITEM_PLACEHOLDERS: Mapping[ForEach | None, frozenset[str]] = {
    None: frozenset(),
    "filter": frozenset({"term"}),
    "goal_group": frozenset({"group", "group_goals"}),
}
"""What a ``for_each`` stage's question may name about its item."""
DECISION_PLACEHOLDERS = frozenset({"model_style", "maturity_level", "maturity_description"})
"""What the ``prompt`` stage may name about the decision (after clamping)."""

FIXED_ANSWERS: Mapping[str, type[BaseModel]] = {
    "TermAnalysis": TermAnalysis,
    "TermInteraction": TermInteraction,
    "WeightedHierarchy": WeightedHierarchy,
    "Decision": Decision,
    "PromptDraft": PromptDraft,
}
"""Answer types a stage may name; ``Extraction`` is built per goal group instead."""
EXTRACTION_ANSWER = "Extraction"
# The service reads these two answers: the decision, and the prompt written from it.
DECISION_ANSWER = "Decision"
PROMPT_ANSWER = "PromptDraft"


def render(template: str, values: Mapping[str, str]) -> str:
    """``template`` with every placeholder replaced by its (already JSON-rendered) value."""
    return template.format_map(values)


class StageSpec(BaseModel):
    """One stage: a question template, its answer type, and what it iterates over."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z_]{0,49}$", description="Names it in the chain.")
    for_each: ForEach | None = Field(
        None, description="Ask once per filter term or per goal group, concurrently."
    )
    answer: str = Field(description="The answer type's name.")
    question: str = Field(min_length=1, description="The question template.")

    def needs(self, stage_names: set[str]) -> list[str]:
        """The stages among ``stage_names`` whose answers this question names."""
        return [name for name in placeholders(self.question) if name in stage_names]


class ChainSpec(BaseModel):
    """A whole chain: checked so that every question can be rendered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str = Field(min_length=1, description="The system message of every question.")
    stages: list[StageSpec] = Field(min_length=1, description="Stage 1, in chain order.")
    prompt: StageSpec = Field(description="Stage 2: the prompt written from the decision.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        seen: set[str] = set()
        for stage in self.stages:
            if stage.name in seen or stage.name == self.prompt.name:
                raise ValueError(f"stage name {stage.name!r} is used twice")
            _check_stage(stage, allowed=CONTEXT_PLACEHOLDERS | seen)
            seen.add(stage.name)
        _check_stage(self.prompt, allowed=CONTEXT_PLACEHOLDERS | DECISION_PLACEHOLDERS | seen)
        if self.prompt.for_each is not None or self.prompt.answer != PROMPT_ANSWER:
            raise ValueError(f"the prompt stage asks one question with answer {PROMPT_ANSWER}")
        decisions = [s for s in self.stages if s.answer == DECISION_ANSWER and not s.for_each]
        if len(decisions) != 1:
            raise ValueError(f"exactly one stage must answer {DECISION_ANSWER} (the validation)")
        return self

    @property
    def decision_stage(self) -> StageSpec:
        """The stage whose answer decides model style and maturity."""
        return next(stage for stage in self.stages if stage.answer == DECISION_ANSWER)

    def stage_names(self) -> list[str]:
        """Every stage name a model override may use, ``prompt`` stage included."""
        return [*(stage.name for stage in self.stages), self.prompt.name]


def _check_stage(stage: StageSpec, *, allowed: frozenset[str] | set[str]) -> None:
    known = [*FIXED_ANSWERS, EXTRACTION_ANSWER]
    if stage.answer not in known:
        raise ValueError(
            f"stage {stage.name!r}: answer {stage.answer!r} is not one of {', '.join(known)}"
        )
    if (stage.answer == EXTRACTION_ANSWER) != (stage.for_each == "goal_group"):
        raise ValueError(f"stage {stage.name!r}: {EXTRACTION_ANSWER} answers one goal group each")
    usable = allowed | ITEM_PLACEHOLDERS[stage.for_each]
    try:
        unknown = [name for name in placeholders(stage.question) if name not in usable]
    except ValueError as error:
        raise ValueError(f"stage {stage.name!r}: {error}") from None
    if unknown:
        raise ValueError(
            f"stage {stage.name!r} names {', '.join(unknown)}, which it cannot see; it may "
            f"name: {', '.join(sorted(usable))}"
        )


def load_chain(path: Path | None = None) -> ChainSpec:
    """Read and check a chain file (default: the shipped ``chain.yaml``).

    Raises:
        AssistantConfigError: The file cannot be read or breaks the rules above.
    """
    if path is None:
        return _shipped_chain()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AssistantConfigError(f"Cannot read chain file {path}: {error}") from None
    return _parse(text, str(path))


@cache
def _shipped_chain() -> ChainSpec:
    text = files("imajin.assistant").joinpath("chain.yaml").read_text(encoding="utf-8")
    return _parse(text, "imajin/assistant/chain.yaml")


def _parse(text: str, where: str) -> ChainSpec:
    return parse_data_file(text, ChainSpec, what=f"Chain file {where}")
