"""The content policy: hard blocks that no endpoint can turn off, and soft blocks.

Hard block (SPEC §1.1; HTTP 422, nothing queued), checked on every endpoint
whatever its maturity policy, in this order:

1. ``prohibited_term``: a term that names sexualised minors or abuse material.
2. ``non_consensual``: a term that itself means a non-consensual sexual act.
3. ``minor_sexual``: a minor (a minor term, an age below majority, or a
   description of a child's body) in a prompt that also has sexual or
   suggestive context.
4. ``non_consensual``: a non-consent term ("forced", "against her will") in a
   prompt that also has sexual context.

(The character guard adds ``minor_character``: a depicted character named as
a minor, sexual context or not.)

Context is the whole text: one image shows one scene, so "a kid's birthday
cake" passes, while the same words beside "lingerie" are blocked. There is no
negation handling on purpose: "no nudity" still counts as sexual context,
because diffusion models read the word and ignore the "no"; constraints are
phrased positively ("fully clothed"). Never run this check on a negative
prompt: negative prompts carry these words by design.

Soft block (:func:`apply_endpoint_policy`): on ``moderated`` and ``sfw``
endpoints a prompt with sexual context is kept, with safety constraints
appended; ``sfw`` also selects the indexable negative prompt (SPEC §1.4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from imajin.errors import InvalidInput, PolicyViolation
from imajin.safety.ages import find_ages
from imajin.safety.negative import NegativeMode
from imajin.safety.normalize import (
    GLUE,
    NormalizedText,
    compile_terms,
    compile_vocabulary,
    find_terms,
    join_splits,
    normalize,
    split_compounds,
)
from imajin.safety.once import Once
from imajin.safety.terms import load_terms

__all__ = [
    "EndpointPolicy",
    "PolicyDecision",
    "PolicyOutcome",
    "PolicyReason",
    "apply_endpoint_policy",
    "check_prompt",
    "enforce",
    "find_minor_terms",
    "violation_message",
]


class PolicyReason(StrEnum):
    """Stable codes a hard block reports (``PolicyViolation.reason``)."""

    PROHIBITED_TERM = "prohibited_term"
    MINOR_SEXUAL = "minor_sexual"
    NON_CONSENSUAL = "non_consensual"
    MINOR_CHARACTER = "minor_character"
    """Raised by the character guard: a depicted character is named as a minor."""


_MESSAGES: dict[PolicyReason, str] = {
    PolicyReason.PROHIBITED_TERM: (
        "The {field} uses a term that names sexualised minors or abuse material. imajin "
        "never generates this, on any endpoint. Remove the term and describe adults only."
    ),
    PolicyReason.MINOR_SEXUAL: (
        "The {field} places a minor in a sexual or suggestive context. imajin never "
        "generates this, on any endpoint. Remove the sexual context, or describe adults only."
    ),
    PolicyReason.NON_CONSENSUAL: (
        "The {field} asks for non-consensual sexual content. imajin never generates this, "
        "on any endpoint. Remove it."
    ),
    PolicyReason.MINOR_CHARACTER: (
        "The {field} describes a character as a minor. Characters must be clearly adult; "
        "describe an adult instead."
    ),
}


def violation_message(reason: PolicyReason, *, field: str) -> str:
    """The user-facing message of a hard block for *reason* on *field*."""
    return _MESSAGES[reason].format(field=f"`{field}`")


class PolicyDecision(BaseModel):
    """The outcome of :func:`check_prompt`.

    Attributes:
        field: The input field that was checked.
        blocked: True when the hard block applies.
        reason: The stable reason code when blocked, else None.
        message: The user-facing message when blocked, else None.
        sexual_context: True when the text has sexual or suggestive context
            (what triggers a soft block on moderated and sfw endpoints).
        matched: The matched words, folded; for logs, never shown to users.
    """

    model_config = ConfigDict(frozen=True)

    field: str
    blocked: bool
    reason: PolicyReason | None = None
    message: str | None = None
    sexual_context: bool = False
    matched: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Matchers:
    benign: re.Pattern[str] | None
    prohibited: re.Pattern[str]
    non_consensual_acts: re.Pattern[str]
    minor: re.Pattern[str]
    minor_vocabulary: re.Pattern[str]
    juvenile_body: re.Pattern[str]
    sexual: re.Pattern[str]
    non_consent: re.Pattern[str]
    vocabulary: re.Pattern[str]
    age_of_majority: int

    def prepare(self, text: str) -> NormalizedText:
        """Normalise *text*, drop benign phrases, split glued terms, join split ones."""
        split = split_compounds(normalize(text, ignore=self.benign), self.vocabulary)
        return join_splits(split, self.minor_vocabulary)


def _benign_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    # Plain spelling only (space or hyphen): an evasive spelling gets no exemption.
    body = "|".join(
        r"[\s-]+".join(map(re.escape, re.split(r"[ -]", phrase)))
        for phrase in sorted(phrases, key=len, reverse=True)
    )
    return re.compile(rf"(?<![^\W_])(?:{body})(?![^\W_])")


@Once
def _matchers() -> _Matchers:
    terms = load_terms()
    policy = terms.policy
    return _Matchers(
        benign=_benign_pattern(policy.benign_phrases),
        prohibited=compile_terms(policy.prohibited),
        non_consensual_acts=compile_terms(policy.non_consensual_acts),
        minor=compile_terms(policy.minor),
        minor_vocabulary=compile_vocabulary(policy.minor),
        juvenile_body=compile_terms(policy.juvenile_body),
        sexual=compile_terms(policy.sexual_context),
        non_consent=compile_terms(policy.non_consent),
        vocabulary=compile_vocabulary(
            policy.prohibited
            + policy.non_consensual_acts
            + policy.minor
            + policy.juvenile_body
            + policy.sexual_context
            + policy.non_consent
        ),
        age_of_majority=terms.ages.age_of_majority,
    )


def _minors(text: NormalizedText, matchers: _Matchers) -> tuple[str, ...]:
    ages = tuple(
        text.search[age.start : age.end].replace(GLUE, " ")
        for age in find_ages(text.search)
        if age.age < matchers.age_of_majority
    )
    return find_terms(matchers.minor, text) + ages


def find_minor_terms(text: str) -> tuple[str, ...]:
    """Words or ages in *text* that name a minor, folded; empty when there are none.

    Benign phrases ("baby blue", "minor key") are not counted.
    """
    matchers = _matchers()
    return _minors(matchers.prepare(text), matchers)


def check_prompt(text: str, *, field: str = "prompt") -> PolicyDecision:
    """Decide whether the hard block applies to *text*.

    Args:
        text: A prompt, filter, chat message or LLM-expanded prompt.
        field: The input field *text* came from, named in the decision.
    """
    matchers = _matchers()
    norm = matchers.prepare(text)

    def blocked(reason: PolicyReason, matched: tuple[str, ...], *, sexual: bool) -> PolicyDecision:
        return PolicyDecision(
            field=field,
            blocked=True,
            reason=reason,
            message=violation_message(reason, field=field),
            sexual_context=sexual,
            matched=matched,
        )

    # 1. Terms that are blocked whatever surrounds them.
    if hits := find_terms(matchers.prohibited, norm):
        return blocked(PolicyReason.PROHIBITED_TERM, hits, sexual=True)
    if hits := find_terms(matchers.non_consensual_acts, norm):
        return blocked(PolicyReason.NON_CONSENSUAL, hits, sexual=True)
    # 2. Minors and non-consent are blocked only beside sexual context.
    sexual = find_terms(matchers.sexual, norm)
    if sexual:
        minors = _minors(norm, matchers) + find_terms(matchers.juvenile_body, norm)
        if minors:
            return blocked(PolicyReason.MINOR_SEXUAL, minors + sexual, sexual=True)
        if forced := find_terms(matchers.non_consent, norm):
            return blocked(PolicyReason.NON_CONSENSUAL, forced + sexual, sexual=True)
    return PolicyDecision(field=field, blocked=False, sexual_context=bool(sexual), matched=sexual)


def enforce(text: str, *, field: str = "prompt") -> PolicyDecision:
    """Like :func:`check_prompt`, but raise when the hard block applies.

    Raises:
        PolicyViolation: The text is hard-blocked; ``reason`` is a
            :class:`PolicyReason` value and ``field`` is *field*.
    """
    decision = check_prompt(text, field=field)
    if decision.blocked and decision.reason is not None and decision.message is not None:
        raise PolicyViolation(decision.message, reason=decision.reason.value, field=field)
    return decision


class EndpointPolicy(StrEnum):
    """A generation endpoint's content policy (SPEC §1.4)."""

    UNRESTRICTED = "unrestricted"
    """Legal safety only."""
    MODERATED = "moderated"
    """Sexual-context prompts get coverage and occlusion constraints."""
    SFW = "sfw"
    """As moderated, with stricter constraints and the indexable negative prompt."""


class PolicyOutcome(BaseModel):
    """A prompt after its endpoint's policy was applied.

    Attributes:
        prompt: The prompt to generate from, constraints appended when soft-blocked.
        policy: The endpoint policy applied.
        negative_mode: The negative-prompt mode the endpoint must use.
        soft_blocked: True when constraints were added for sexual context.
        constraints: The constraints the policy calls for (appended when soft-blocked).
    """

    model_config = ConfigDict(frozen=True)

    prompt: str
    policy: EndpointPolicy
    negative_mode: NegativeMode
    soft_blocked: bool
    constraints: tuple[str, ...]


def _parse_policy(policy: EndpointPolicy | str) -> EndpointPolicy:
    try:
        return EndpointPolicy(policy)
    except ValueError:
        allowed = ", ".join(member.value for member in EndpointPolicy)
        raise InvalidInput(
            f"`policy` must be one of {allowed}, got {policy!r}.", field="policy"
        ) from None


def _append(prompt: str, constraints: tuple[str, ...]) -> str:
    # Skip constraints already there, so that applying a policy twice (before
    # and after LLM expansion) does not repeat them.
    present = prompt.casefold()
    missing = [term for term in constraints if term.casefold() not in present]
    return ", ".join([prompt.strip().rstrip(","), *missing]) if missing else prompt


def apply_endpoint_policy(
    text: str, policy: EndpointPolicy | str, *, field: str = "prompt"
) -> PolicyOutcome:
    """Apply an endpoint's content policy to a prompt.

    The hard block applies on every policy, ``unrestricted`` included. On
    ``moderated`` and ``sfw`` a prompt with sexual context is kept and the
    policy's constraints are appended; ``sfw`` always uses the indexable
    negative prompt.

    Raises:
        PolicyViolation: The prompt is hard-blocked.
        InvalidInput: *policy* is not an endpoint policy.
    """
    resolved = _parse_policy(policy)
    decision = enforce(text, field=field)
    soft_block = load_terms().soft_block
    constraints: tuple[str, ...] = {
        EndpointPolicy.UNRESTRICTED: (),
        EndpointPolicy.MODERATED: soft_block.moderated,
        EndpointPolicy.SFW: soft_block.sfw,
    }[resolved]
    soft_blocked = decision.sexual_context and bool(constraints)
    return PolicyOutcome(
        prompt=_append(text, constraints) if soft_blocked else text,
        policy=resolved,
        negative_mode="indexable" if resolved is EndpointPolicy.SFW else "platform",
        soft_blocked=soft_blocked,
        constraints=constraints,
    )
