"""The adult-character guard (SPEC §1.1 "Characters").

Prompts that depict a person in the character pipelines (avatars, chat
characters) go through :func:`enforce_adult_character`, which guarantees an
explicit adult age in the configured range (22–35), an adult body
description, an everyday or professional adult context, the suffix "clearly
adult proportions", and returns the juvenile-trait terms for the negative
prompt. Random choices come from a seeded generator, so the same prompt and
seed always give the same result.
"""

from __future__ import annotations

import hashlib
import random
import re

from pydantic import BaseModel, ConfigDict

from imajin.errors import InvalidInput, PolicyViolation
from imajin.safety.ages import find_ages
from imajin.safety.once import Once
from imajin.safety.policy import PolicyReason, enforce, find_minor_terms, violation_message
from imajin.safety.terms import CharacterTerms, load_terms

__all__ = ["CharacterPrompt", "enforce_adult_character"]


class CharacterPrompt(BaseModel):
    """A character prompt made clearly adult.

    Attributes:
        prompt: The rewritten prompt to generate from.
        age: The character's age, within the configured adult range.
        age_inserted: True when the prompt named no age and one was added.
        replaced_ages: Ages found in the prompt outside the range, now replaced.
        removed_traits: Juvenile-trait phrases taken out of the prompt.
        negative_terms: Juvenile-trait terms to add to the negative prompt.
    """

    model_config = ConfigDict(frozen=True)

    prompt: str
    age: int
    age_inserted: bool
    replaced_ages: tuple[int, ...]
    removed_traits: tuple[str, ...]
    negative_terms: tuple[str, ...]


@Once
def _trait_pattern() -> re.Pattern[str]:
    traits = sorted(load_terms().character.juvenile_trait_negatives, key=len, reverse=True)
    body = "|".join(r"[\s-]+".join(map(re.escape, re.split(r"[ -]", t))) for t in traits)
    return re.compile(rf"(?<![^\W_])(?:{body})(?![^\W_])", re.IGNORECASE)


def _stable_seed(prompt: str) -> int:
    # Without a seed, derive one from the prompt: the same prompt gives the
    # same character on every run and every machine (hash() is salted per process).
    return int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:8], "big")


def _tidy(prompt: str) -> str:
    # Removing phrases leaves stray commas and spaces ("a, , woman").
    prompt = re.sub(r"\s*,\s*(?:,\s*)*", ", ", prompt)
    return re.sub(r"\s{2,}", " ", prompt).strip(" ,")


def _choose_age(prompt: str, *, age: int | None, rng: random.Random, terms: CharacterTerms) -> int:
    low, high = terms.age_range.minimum, terms.age_range.maximum
    if age is not None:
        if not low <= age <= high:
            raise InvalidInput(f"`age` must be between {low} and {high}; got {age}.", field="age")
        return age
    in_range = [m.age for m in find_ages(prompt) if low <= m.age <= high]
    return in_range[0] if in_range else rng.randint(low, high)


def _rewrite_ages(
    prompt: str, *, age: int, force: bool, terms: CharacterTerms
) -> tuple[str, tuple[int, ...]]:
    low, high = terms.age_range.minimum, terms.age_range.maximum
    replaced: list[int] = []
    # Right to left, so earlier positions stay valid while splicing.
    for mention in reversed(find_ages(prompt)):
        if force or not low <= mention.age <= high:
            if mention.age != age:
                replaced.append(mention.age)
            prompt = prompt[: mention.number_start] + str(age) + prompt[mention.number_end :]
    return prompt, tuple(reversed(replaced))


def enforce_adult_character(
    prompt: str, *, age: int | None = None, seed: int | None = None, field: str = "prompt"
) -> CharacterPrompt:
    """Rewrite a character prompt so that it describes a clearly adult person.

    Args:
        prompt: The character description.
        age: The character's age; must lie in the configured range. When
            None, the first in-range age in the prompt is kept, or one is drawn.
        seed: Seeds the random choices; None derives a seed from *prompt*.
        field: The input field *prompt* came from, for errors.

    Raises:
        PolicyViolation: The prompt is hard-blocked, or names the character
            as a minor (reason ``minor_character``), in words or as an age
            below majority.
        InvalidInput: The prompt is empty, or *age* is out of range.
    """
    terms = load_terms()
    character = terms.character
    # 1. Check inputs, and the hard block before anything is rewritten.
    if not prompt.strip():
        raise InvalidInput(f"`{field}` must describe the character; it is empty.", field=field)
    enforce(prompt, field=field)
    rng = random.Random(_stable_seed(prompt) if seed is None else seed)  # noqa: S311 - not crypto

    # 2. A character named as a minor is refused rather than silently aged up;
    # this runs before trait removal, so "young child" cannot vanish into an adult.
    minors = find_minor_terms(prompt)
    young = [m for m in find_ages(prompt) if m.age < terms.ages.age_of_majority]
    if minors or young:
        reason = PolicyReason.MINOR_CHARACTER
        message = violation_message(reason, field=field)
        raise PolicyViolation(message, reason=reason.value, field=field)

    # 3. Juvenile traits belong in the negative prompt, never in the positive one.
    removed = tuple(match.group() for match in _trait_pattern().finditer(prompt))
    core = _tidy(_trait_pattern().sub("", prompt))

    # 4. One explicit adult age: keep, replace or insert.
    chosen = _choose_age(core, age=age, rng=rng, terms=character)
    core, replaced = _rewrite_ages(core, age=chosen, force=age is not None, terms=character)
    inserted = not find_ages(core)
    if inserted:
        core = f"{chosen}-year-old adult, {core}"

    # 5. Adult body and adult context, then the fixed suffix: last, and once.
    core = _tidy(re.sub(re.escape(character.suffix), "", core, flags=re.IGNORECASE))
    body, context = rng.choice(character.adult_bodies), rng.choice(character.adult_contexts)
    final = ", ".join(part for part in (core, body, context, character.suffix) if part)
    enforce(final, field=field)
    return CharacterPrompt(
        prompt=final,
        age=chosen,
        age_inserted=inserted,
        replaced_ages=replaced,
        removed_traits=removed,
        negative_terms=character.juvenile_trait_negatives,
    )
