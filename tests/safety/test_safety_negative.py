"""The negative prompt builder: legal terms always present, stable, de-duplicated."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imajin.errors import InvalidInput
from imajin.safety import (
    ANIME_QUALITY_EXTRAS,
    INDEXABLE_NEGATIVE_PROMPTS,
    INDEXABLE_TERMS,
    LEGAL_SAFETY_TERMS,
    MODEL_STYLES,
    NEGATIVE_MODES,
    PLATFORM_NEGATIVE_PROMPTS,
    QUALITY_TERMS,
    ModelStyle,
    build_negative_prompt,
    complete_negative_prompt,
    has_legal_terms,
    split_terms,
)


def _key(term: str) -> str:
    return " ".join(term.casefold().split())


def _keys(prompt: str) -> list[str]:
    return [_key(term) for term in prompt.split(",")]


def _assert_legal_terms_present(prompt: str) -> None:
    keys = set(_keys(prompt))
    missing = [term for term in LEGAL_SAFETY_TERMS if _key(term) not in keys]
    assert not missing, missing


OVERRIDES: list[str | list[str] | None] = [None, "grainy, overexposed", ["grainy"], "", []]
EXTRAS: list[str | list[str]] = [[], "logo", ["logo", "frame border"]]


@pytest.mark.parametrize("style", MODEL_STYLES)
@pytest.mark.parametrize("mode", NEGATIVE_MODES)
@pytest.mark.parametrize("override", OVERRIDES)
@pytest.mark.parametrize("extra_terms", EXTRAS)
def test_every_legal_term_is_always_present(
    style: str, mode: str, override: str | list[str] | None, extra_terms: str | list[str]
) -> None:
    prompt = build_negative_prompt(style, mode, extra_terms=extra_terms, override=override)
    _assert_legal_terms_present(prompt)


_term = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=24)


@given(
    style=st.sampled_from(MODEL_STYLES),
    mode=st.sampled_from(NEGATIVE_MODES),
    override=st.none() | _term | st.lists(_term, max_size=6),
    extra_terms=_term | st.lists(_term, max_size=6),
)
def test_legal_terms_survive_any_override_and_extras(
    style: str, mode: str, override: str | list[str] | None, extra_terms: str | list[str]
) -> None:
    prompt = build_negative_prompt(style, mode, extra_terms=extra_terms, override=override)
    _assert_legal_terms_present(prompt)
    keys = _keys(prompt)
    assert len(keys) == len(set(keys)), "terms are de-duplicated"
    # The legal terms are the tail, so nothing a caller sends can push them out.
    assert keys[-1] == _key(LEGAL_SAFETY_TERMS[-1])


@given(override=st.lists(_term, max_size=6))
def test_override_replaces_the_quality_terms_only(override: list[str]) -> None:
    prompt = build_negative_prompt("anime", "indexable", override=override)
    expected = list(dict.fromkeys(_key(t) for t in [*split_terms(override), *LEGAL_SAFETY_TERMS]))
    assert _keys(prompt) == expected


def test_platform_mode_is_legal_plus_quality() -> None:
    prompt = build_negative_prompt("photorealistic")
    expected = list(dict.fromkeys(_key(t) for t in [*QUALITY_TERMS, *LEGAL_SAFETY_TERMS]))
    assert _keys(prompt) == expected


def test_anime_adds_its_extras_and_indexable_adds_its_terms() -> None:
    photo = set(_keys(build_negative_prompt("photorealistic")))
    anime = set(_keys(build_negative_prompt("anime")))
    indexable = set(_keys(build_negative_prompt("photorealistic", "indexable")))
    assert {_key(t) for t in ANIME_QUALITY_EXTRAS} <= anime
    assert not {_key(t) for t in ANIME_QUALITY_EXTRAS} & photo
    assert {_key(t) for t in INDEXABLE_TERMS} <= indexable
    assert "nudity" not in photo


def test_duplicates_keep_the_first_spelling_and_order() -> None:
    prompt = build_negative_prompt(
        "photorealistic", override="Grainy, BLURRY, grainy", extra_terms=["blurry", "CHILD"]
    )
    terms = prompt.split(", ")
    assert terms[:3] == ["Grainy", "BLURRY", "CHILD"]
    assert "child" not in terms  # already there as "CHILD"
    _assert_legal_terms_present(prompt)
    assert prompt == build_negative_prompt(
        "photorealistic", override="Grainy, BLURRY, grainy", extra_terms=["blurry", "CHILD"]
    )


def test_string_arguments_split_on_commas() -> None:
    from_string = build_negative_prompt("anime", override="a, b", extra_terms="c, ,d")
    from_lists = build_negative_prompt("anime", override=["a", "b"], extra_terms=["c", "d"])
    assert from_string == from_lists
    assert from_string.startswith("a, b, c, d, ")


def test_an_empty_override_leaves_the_legal_terms() -> None:
    prompt = build_negative_prompt("photorealistic", override="")
    assert _keys(prompt) == list(dict.fromkeys(_key(t) for t in LEGAL_SAFETY_TERMS))


@pytest.mark.parametrize("style", MODEL_STYLES)
def test_prebuilt_constants_match_the_builder(style: ModelStyle) -> None:
    assert PLATFORM_NEGATIVE_PROMPTS[style] == build_negative_prompt(style)
    assert INDEXABLE_NEGATIVE_PROMPTS[style] == build_negative_prompt(style, "indexable")
    assert set(PLATFORM_NEGATIVE_PROMPTS) == set(MODEL_STYLES)


def test_prebuilt_constants_are_read_only() -> None:
    with pytest.raises(TypeError):
        PLATFORM_NEGATIVE_PROMPTS["anime"] = "blurry"  # type: ignore[index]


def test_unknown_style_and_mode_name_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        build_negative_prompt("sdxl-base-1.0")
    assert caught.value.field == "model"
    assert "photorealistic, anime" in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        build_negative_prompt("anime", "strict")
    assert caught.value.field == "mode"


@pytest.mark.parametrize("style", MODEL_STYLES)
def test_the_engine_keeps_a_built_negative_prompt_as_it_is(style: ModelStyle) -> None:
    built = build_negative_prompt(style, "indexable", override="grainy")
    assert complete_negative_prompt(style, built) is built  # not built a second time
    # The caller's own spelling and order stay too, once every legal term is there.
    reordered = ", ".join(["Grainy", "grainy", *reversed(LEGAL_SAFETY_TERMS)]).upper()
    assert has_legal_terms(reordered)
    assert complete_negative_prompt(style, reordered) == reordered


@pytest.mark.parametrize("style", MODEL_STYLES)
@pytest.mark.parametrize(
    "negative", [None, "", "watermark, text", ", ".join(LEGAL_SAFETY_TERMS[1:])]
)
def test_the_engine_completes_a_negative_prompt_that_lacks_a_legal_term(
    style: ModelStyle, negative: str | None
) -> None:
    assert negative is None or not has_legal_terms(negative)
    completed = complete_negative_prompt(style, negative)
    assert completed == build_negative_prompt(style, override=negative)
    _assert_legal_terms_present(completed)
