"""The negative prompt builder (SPEC §1.2).

Every negative prompt is built here, and every one ends with the legal safety
terms: an ``override`` replaces only the quality and mode terms (**Instead**
of the source system's override, which dropped legal safety). There is no
parameter that removes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import Final, get_args

from imajin.contracts.assistant import ModelStyle, NegativeMode
from imajin.errors import InvalidInput
from imajin.safety.terms import load_terms

__all__ = [
    "ANIME_QUALITY_EXTRAS",
    "INDEXABLE_NEGATIVE_PROMPTS",
    "INDEXABLE_TERMS",
    "LEGAL_SAFETY_TERMS",
    "MODEL_STYLES",
    "NEGATIVE_MODES",
    "PLATFORM_NEGATIVE_PROMPTS",
    "QUALITY_TERMS",
    "ModelStyle",
    "NegativeMode",
    "build_negative_prompt",
    "complete_negative_prompt",
    "has_legal_terms",
    "split_terms",
]


MODEL_STYLES: Final[tuple[ModelStyle, ...]] = get_args(ModelStyle)
NEGATIVE_MODES: Final[tuple[NegativeMode, ...]] = get_args(NegativeMode)

_TERMS = load_terms().negative_prompt
LEGAL_SAFETY_TERMS: Final[tuple[str, ...]] = _TERMS.legal_safety
QUALITY_TERMS: Final[tuple[str, ...]] = _TERMS.quality
ANIME_QUALITY_EXTRAS: Final[tuple[str, ...]] = _TERMS.anime_quality_extras
INDEXABLE_TERMS: Final[tuple[str, ...]] = _TERMS.indexable


def split_terms(terms: str | Iterable[str]) -> tuple[str, ...]:
    """Split a comma-separated string, or each string of an iterable, into terms.

    Whitespace around terms is stripped and empty terms are dropped.
    """
    chunks = [terms] if isinstance(terms, str) else list(terms)
    return tuple(term.strip() for chunk in chunks for term in chunk.split(",") if term.strip())


def _key(term: str) -> str:
    return " ".join(term.casefold().split())


def _check_style(model: str) -> ModelStyle:
    for style in MODEL_STYLES:
        if model == style:
            return style
    raise InvalidInput(
        f"`model` must be a model style, one of {', '.join(MODEL_STYLES)}; got {model!r}. "
        "Resolve a model id to its style first.",
        field="model",
    )


def _check_mode(mode: str) -> NegativeMode:
    for known in NEGATIVE_MODES:
        if mode == known:
            return known
    raise InvalidInput(
        f"`mode` must be one of {', '.join(NEGATIVE_MODES)}; got {mode!r}.", field="mode"
    )


@lru_cache(maxsize=1024)
def _build(
    style: ModelStyle,
    mode: NegativeMode,
    extra_terms: tuple[str, ...],
    override: tuple[str, ...] | None,
) -> str:
    if override is not None:
        base = override
    else:
        base = QUALITY_TERMS
        if style == "anime":
            base += ANIME_QUALITY_EXTRAS
        if mode == "indexable":
            base += INDEXABLE_TERMS
    # Legal terms come last and are never filtered out: de-duplication keeps
    # the first spelling, so an earlier duplicate still leaves the term present.
    seen: set[str] = set()
    unique: list[str] = []
    for term in (*base, *extra_terms, *LEGAL_SAFETY_TERMS):
        if (key := _key(term)) not in seen:
            seen.add(key)
            unique.append(term)
    return ", ".join(unique)


def build_negative_prompt(
    model: ModelStyle | str,
    mode: NegativeMode | str = "platform",
    *,
    extra_terms: str | Iterable[str] = (),
    override: str | Sequence[str] | None = None,
) -> str:
    """Build a negative prompt: one comma-separated string, terms de-duplicated.

    Terms are, in order: the quality terms (plus the anime extras for anime
    models, plus the indexable terms in ``indexable`` mode) or, when given,
    *override* in their place; then *extra_terms*; then the legal safety
    terms, always. Duplicates are dropped case-insensitively, keeping the
    first spelling, so the order is stable.

    Args:
        model: The model style, ``photorealistic`` or ``anime``.
        mode: ``platform`` (default) or ``indexable`` (SafeSearch-clean images).
        extra_terms: Terms to add; a string is split on commas.
        override: Replaces the quality and mode terms (not the legal ones); a
            string is split on commas. An empty override leaves legal terms only.

    Raises:
        InvalidInput: *model* or *mode* is unknown.
    """
    style = _check_style(model)
    resolved_mode = _check_mode(mode)
    extras = split_terms(extra_terms)
    replaced = None if override is None else split_terms(override)
    return _build(style, resolved_mode, extras, replaced)


PLATFORM_NEGATIVE_PROMPTS: Final[Mapping[ModelStyle, str]] = MappingProxyType(
    {style: build_negative_prompt(style, "platform") for style in MODEL_STYLES}
)
"""The platform negative prompt per model style (read-only)."""
INDEXABLE_NEGATIVE_PROMPTS: Final[Mapping[ModelStyle, str]] = MappingProxyType(
    {style: build_negative_prompt(style, "indexable") for style in MODEL_STYLES}
)
"""The indexable negative prompt per model style (read-only)."""


def has_legal_terms(negative: str) -> bool:
    """True when ``negative`` holds every legal safety term (case and spacing aside)."""
    present = {_key(term) for term in split_terms(negative)}
    return all(_key(term) in present for term in LEGAL_SAFETY_TERMS)


def complete_negative_prompt(model: ModelStyle | str, negative: str | None) -> str:
    """The engine's guard of last resort for negative prompts.

    A negative prompt a service already built (it holds every legal term) is
    used as it is, not built a second time; one that lacks a legal term, or
    none at all (the CLI, a caller that built nothing), is built here, so no
    generation ever runs without the legal terms.

    Raises:
        InvalidInput: *model* is not a model style.
    """
    if negative is not None and has_legal_terms(negative):
        return negative
    return build_negative_prompt(model, override=negative)
