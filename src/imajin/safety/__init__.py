"""imajin's safety layer (SPEC §1): legal safety that no endpoint can switch off.

- :func:`build_negative_prompt`: every negative prompt, legal terms always in.
- :func:`check_prompt` / :func:`enforce`: the hard block (minors in sexual
  context, non-consent, prohibited terms), robust to spelling evasions.
- :func:`apply_endpoint_policy`: the soft block per endpoint policy.
- :class:`MaturityLevel` and friends: the 7-level maturity scale.
- :func:`enforce_adult_character`: the adult-character guard.

The words behind all of it live in one data file, ``terms.yaml``; the regexes
built from it are compiled once per process, by :func:`warm_up` at start-up
or by the first check. This package
sits below ``imajin.api`` and ``imajin.engine`` and never imports them.
"""

from imajin.safety import ages, character, policy
from imajin.safety.character import CharacterPrompt, enforce_adult_character
from imajin.safety.maturity import (
    LEGACY_LEVELS,
    MaturityBand,
    MaturityLevel,
    MaturityPolicy,
    allowed_band,
    clamp,
    parse_maturity,
)
from imajin.safety.negative import (
    ANIME_QUALITY_EXTRAS,
    INDEXABLE_NEGATIVE_PROMPTS,
    INDEXABLE_TERMS,
    LEGAL_SAFETY_TERMS,
    MODEL_STYLES,
    NEGATIVE_MODES,
    PLATFORM_NEGATIVE_PROMPTS,
    QUALITY_TERMS,
    ModelStyle,
    NegativeMode,
    build_negative_prompt,
    complete_negative_prompt,
    has_legal_terms,
    split_terms,
)
from imajin.safety.normalize import NormalizedText, fold, normalize
from imajin.safety.policy import (
    EndpointPolicy,
    PolicyDecision,
    PolicyOutcome,
    PolicyReason,
    apply_endpoint_policy,
    check_prompt,
    enforce,
    find_minor_terms,
)
from imajin.safety.terms import SafetyTerms, load_terms

__all__ = [
    "ANIME_QUALITY_EXTRAS",
    "INDEXABLE_NEGATIVE_PROMPTS",
    "INDEXABLE_TERMS",
    "LEGACY_LEVELS",
    "LEGAL_SAFETY_TERMS",
    "MODEL_STYLES",
    "NEGATIVE_MODES",
    "PLATFORM_NEGATIVE_PROMPTS",
    "QUALITY_TERMS",
    "CharacterPrompt",
    "EndpointPolicy",
    "MaturityBand",
    "MaturityLevel",
    "MaturityPolicy",
    "ModelStyle",
    "NegativeMode",
    "NormalizedText",
    "PolicyDecision",
    "PolicyOutcome",
    "PolicyReason",
    "SafetyTerms",
    "allowed_band",
    "apply_endpoint_policy",
    "build_negative_prompt",
    "check_prompt",
    "clamp",
    "complete_negative_prompt",
    "enforce",
    "enforce_adult_character",
    "find_minor_terms",
    "fold",
    "has_legal_terms",
    "load_terms",
    "normalize",
    "parse_maturity",
    "split_terms",
    "warm_up",
]


def warm_up() -> None:
    """Compile every regex of the safety layer now (call once at server start-up).

    Without it the first checks compile them, which takes long enough to stall
    the first burst of requests. Safe to call from several threads, and again.
    """
    load_terms()
    policy._matchers()
    ages._matcher()
    character._trait_pattern()
