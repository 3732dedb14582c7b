"""The adult-character guard: explicit adult age, adult body and context, fixed suffix."""

from __future__ import annotations

import pytest

from imajin.errors import InvalidInput, PolicyViolation
from imajin.safety import enforce_adult_character, load_terms
from imajin.safety.ages import find_ages

CHARACTER = load_terms().character
LOW, HIGH = CHARACTER.age_range.minimum, CHARACTER.age_range.maximum
SUFFIX = "clearly adult proportions"


def _ages(prompt: str) -> list[int]:
    return [mention.age for mention in find_ages(prompt)]


def test_the_range_and_suffix_are_those_of_the_spec() -> None:
    assert (LOW, HIGH) == (22, 35)
    assert CHARACTER.suffix == SUFFIX


@pytest.mark.parametrize("seed", range(20))
def test_a_missing_age_is_inserted_in_range(seed: int) -> None:
    result = enforce_adult_character("a barista behind a counter", seed=seed)
    assert result.age_inserted
    assert LOW <= result.age <= HIGH
    assert _ages(result.prompt) == [result.age]
    assert result.replaced_ages == ()


@pytest.mark.parametrize(
    ("prompt", "old"),
    [
        ("a 19 year old barista", 19),
        ("a 21-year-old student of architecture", 21),
        ("a 48 yo tarot reader", 48),
        ("a forty-year-old pilot", 40),
        ("an architect aged 60", 60),
        ("a 36 y/o chef", 36),
    ],
)
def test_ages_outside_the_range_are_replaced(prompt: str, old: int) -> None:
    result = enforce_adult_character(prompt, seed=7)
    assert result.replaced_ages == (old,)
    assert not result.age_inserted
    assert LOW <= result.age <= HIGH
    assert _ages(result.prompt) == [result.age]


def test_an_age_in_range_is_kept() -> None:
    result = enforce_adult_character("a 28-year-old pilot in a cockpit")
    assert result.age == 28
    assert result.prompt.startswith("a 28-year-old pilot in a cockpit, ")
    assert result.replaced_ages == ()


def test_a_given_age_wins_over_the_prompt() -> None:
    result = enforce_adult_character("a 28-year-old pilot", age=31)
    assert result.age == 31
    assert _ages(result.prompt) == [31]
    assert result.replaced_ages == (28,)


@pytest.mark.parametrize("age", [18, 21, 36, 70])
def test_a_given_age_outside_the_range_is_refused(age: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        enforce_adult_character("a pilot", age=age)
    assert caught.value.field == "age"


def test_the_prompt_gets_adult_body_context_and_suffix() -> None:
    result = enforce_adult_character("Portrait, clearly adult proportions, city street", seed=3)
    parts = result.prompt.split(", ")
    assert parts[-1] == SUFFIX
    assert result.prompt.lower().count(SUFFIX) == 1
    assert parts[-3] in CHARACTER.adult_bodies
    assert parts[-2] in CHARACTER.adult_contexts


def test_juvenile_traits_move_to_the_negative_terms() -> None:
    result = enforce_adult_character("a petite woman, youthful appearance, city street", seed=1)
    assert result.removed_traits == ("petite", "youthful appearance")
    assert "petite" not in result.prompt
    assert "youthful" not in result.prompt
    assert result.negative_terms == CHARACTER.juvenile_trait_negatives
    for term in ("flat chest", "child proportions", "baby face", "small body"):
        assert term in result.negative_terms


def test_the_result_is_deterministic_by_seed() -> None:
    runs = {enforce_adult_character("a tarot reader at a market", seed=42) for _ in range(3)}
    assert len(runs) == 1
    different = {
        enforce_adult_character("a tarot reader at a market", seed=s).prompt for s in range(30)
    }
    assert len(different) > 1


def test_without_a_seed_the_prompt_itself_seeds_the_choices() -> None:
    first = enforce_adult_character("a florist arranging tulips")
    assert first == enforce_adult_character("a florist arranging tulips")


@pytest.mark.parametrize(
    "prompt",
    ["a teen at a desk", "a 16 year old skater", "a young girl reading", "a baby-faced kid"],
)
def test_a_character_named_as_a_minor_is_refused(prompt: str) -> None:
    with pytest.raises(PolicyViolation) as caught:
        enforce_adult_character(prompt, field="features")
    assert caught.value.reason == "minor_character"
    assert caught.value.field == "features"


def test_the_hard_block_comes_first() -> None:
    with pytest.raises(PolicyViolation) as caught:
        enforce_adult_character("nude child")
    assert caught.value.reason == "minor_sexual"


def test_an_empty_prompt_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        enforce_adult_character("  ", field="description")
    assert caught.value.field == "description"
