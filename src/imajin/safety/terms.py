"""Loading the safety term data file (``terms.yaml``).

Every word the safety layer acts on lives in ``terms.yaml`` next to this
module (SPEC §1.4: "one data file, not scattered through code"). This module
reads it once through :mod:`importlib.resources`, so it works from a wheel
as well as from a source tree, and validates its shape with pydantic so that
a broken edit fails loudly at start-up instead of silently weakening a block.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from imajin.errors import ConfigError
from imajin.safety.once import Once

__all__ = [
    "AgeTerms",
    "CharacterTerms",
    "NegativePromptTerms",
    "PolicyTerms",
    "SafetyTerms",
    "SoftBlockTerms",
    "load_terms",
]

TERMS_RESOURCE = "terms.yaml"

# Policy terms feed a regex compiler, so they are restricted to what it expects:
# lowercase ASCII words separated by single spaces or hyphens.
MatchTerm = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:[ -][a-z0-9]+)*$")]
# Negative-prompt and constraint terms go to a diffusion model as written.
PromptTerm = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NegativePromptTerms(_Section):
    """Term groups of the negative prompt builder (SPEC §1.2)."""

    legal_safety: tuple[PromptTerm, ...] = Field(min_length=1)
    quality: tuple[PromptTerm, ...] = Field(min_length=1)
    anime_quality_extras: tuple[PromptTerm, ...] = Field(min_length=1)
    indexable: tuple[PromptTerm, ...] = Field(min_length=1)


class PolicyTerms(_Section):
    """Term categories of the hard block and the benign phrases exempt from it."""

    prohibited: tuple[MatchTerm, ...] = Field(min_length=1)
    non_consensual_acts: tuple[MatchTerm, ...] = Field(min_length=1)
    minor: tuple[MatchTerm, ...] = Field(min_length=1)
    juvenile_body: tuple[MatchTerm, ...] = Field(min_length=1)
    sexual_context: tuple[MatchTerm, ...] = Field(min_length=1)
    non_consent: tuple[MatchTerm, ...] = Field(min_length=1)
    benign_phrases: tuple[MatchTerm, ...] = ()


class AgeTerms(_Section):
    """How ages are written, and the age below which a person is a minor."""

    age_of_majority: int = Field(gt=0)
    units: tuple[MatchTerm, ...] = Field(min_length=1)
    prefixes: tuple[MatchTerm, ...] = ()
    number_words: dict[MatchTerm, int] = Field(min_length=1)


class SoftBlockTerms(_Section):
    """Constraints appended to a sexual-context prompt, per endpoint policy."""

    moderated: tuple[PromptTerm, ...] = Field(min_length=1)
    sfw: tuple[PromptTerm, ...] = Field(min_length=1)


class AgeRange(_Section):
    """The inclusive age range a depicted character must fall in."""

    minimum: int = Field(gt=0)
    maximum: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> AgeRange:
        if self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} is above maximum {self.maximum}")
        return self


class CharacterTerms(_Section):
    """Data of the adult-character guard (SPEC §1.1 "Characters")."""

    age_range: AgeRange
    suffix: PromptTerm
    adult_bodies: tuple[PromptTerm, ...] = Field(min_length=1)
    adult_contexts: tuple[PromptTerm, ...] = Field(min_length=1)
    juvenile_trait_negatives: tuple[PromptTerm, ...] = Field(min_length=1)


class SafetyTerms(_Section):
    """The whole of ``terms.yaml``, validated."""

    negative_prompt: NegativePromptTerms
    policy: PolicyTerms
    ages: AgeTerms
    soft_block: SoftBlockTerms
    character: CharacterTerms

    @model_validator(mode="after")
    def _adult_range_is_adult(self) -> SafetyTerms:
        # A character range that reaches below majority would defeat the guard.
        if self.character.age_range.minimum < self.ages.age_of_majority:
            raise ValueError("character.age_range.minimum is below ages.age_of_majority")
        return self


@Once
def load_terms() -> SafetyTerms:
    """Read and validate the packaged ``terms.yaml`` (once per process).

    Raises:
        ConfigError: The file is missing, is not YAML, or breaks the schema.
    """
    resource = files("imajin.safety").joinpath(TERMS_RESOURCE)
    try:
        raw = yaml.safe_load(resource.read_text(encoding="utf-8"))
        return SafetyTerms.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(
            f"The safety term file imajin/safety/{TERMS_RESOURCE} is unusable: {exc}. "
            "Reinstall imajin or fix the file; the safety layer cannot run without it."
        ) from exc
