"""The typed answers of the reasoning stages, which structured output fills in.

Every string and list is bounded (``max_length``) so that a small model under
constrained decoding finishes within its token budget (about 300 tokens each). ``reasoning`` comes
first so that the model reasons before it commits to the other fields. Class and
field descriptions reach the model in the JSON schema, so they describe what to
decide and never name example values (rule 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from imajin.safety.maturity import MaturityLevel
from imajin.safety.negative import ModelStyle

__all__ = [
    "Decision",
    "Expansion",
    "PromptDraft",
    "StyledExpansion",
    "TermAnalysis",
    "TermInteraction",
    "WeightedHierarchy",
    "hierarchy_answer_type",
]

Reasoning = Annotated[str, Field(max_length=300, description="Your reasoning, briefly.")]
Phrase = Annotated[str, Field(min_length=1, max_length=160)]
Point = Annotated[str, Field(min_length=1, max_length=100)]
Term = Annotated[str, Field(min_length=1, max_length=30)]
Confidence = Annotated[float, Field(ge=0.0, le=1.0, description="How sure you are, 0 to 1.")]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TermAnalysis(_Answer):
    """What one filter term means for the image."""

    reasoning: Reasoning
    meaning: Phrase = Field(description="What the term means in this context.")
    visual_implications: Phrase = Field(description="What it implies for how the image looks.")
    audience_implications: Phrase = Field(description="What it implies for who the image is for.")
    maturity_implications: Phrase = Field(description="What it implies for the maturity level.")
    confidence: Confidence


class TermInteraction(_Answer):
    """How the filter terms and the category act on each other."""

    reasoning: Reasoning
    combined_meaning: Phrase = Field(description="What the terms mean taken together.")
    reinforcements: list[Point] = Field(
        max_length=3, description="Where terms strengthen each other."
    )
    conflicts: list[Point] = Field(max_length=3, description="Where terms pull apart.")


# hierarchy_answer_type narrows ranked_factors to the instance's own factor names.
class WeightedHierarchy(_Answer):
    """The considerations ranked by the instance's factor weights."""

    reasoning: Reasoning
    ranked_factors: list[str] = Field(
        max_length=50, description="The factors, from most to least influential."
    )
    leading_influence: Phrase = Field(description="What the most influential factor asks of it.")
    resolution: Phrase = Field(description="How the conflicts are settled, given the weights.")


def hierarchy_answer_type(factors: Sequence[str]) -> type[WeightedHierarchy]:
    """:class:`WeightedHierarchy` whose ranking can only name ``factors``, each at most once."""
    names: Any = Literal[tuple(factors)]
    ranked = Annotated[
        list[names],
        Field(
            max_length=len(factors),
            description="The factors, from most to least influential.",
        ),
    ]
    model: type[WeightedHierarchy] = create_model(
        "WeightedHierarchy",
        __base__=WeightedHierarchy,
        __doc__=WeightedHierarchy.__doc__,
        ranked_factors=(ranked, ...),
    )
    return model


class Decision(_Answer):
    """The validation stage: consistency check, then the model style and maturity level."""

    reasoning: Reasoning
    consistent: bool = Field(description="Whether the earlier answers agree with each other.")
    issues: list[Point] = Field(max_length=3, description="Disagreements found, if any.")
    model_style: ModelStyle = Field(description="The image model style to generate with.")
    maturity_level: MaturityLevel = Field(description="The maturity level of the image.")
    confidence: Confidence


class PromptDraft(_Answer):
    """The image prompt written from the decided context."""

    reasoning: Reasoning
    prompt: str = Field(
        min_length=1, max_length=600, description="The positive prompt: comma-separated phrases."
    )
    negative_terms: list[Term] = Field(
        max_length=8, description="Extra things the image should not show."
    )


class Expansion(PromptDraft):
    """A pipeline brief expanded into an image prompt."""


class StyledExpansion(Expansion):
    """A pipeline brief expanded into an image prompt, with the model style to render it."""

    model_style: ModelStyle = Field(description="The image model style that suits the brief.")
