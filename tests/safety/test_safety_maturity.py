"""The 7-level maturity scale, legacy values, clamping and the allowed band."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from imajin.errors import InvalidInput
from imajin.safety import (
    MaturityBand,
    MaturityLevel,
    MaturityPolicy,
    allowed_band,
    clamp,
    parse_maturity,
)

SCALE = [
    "sfw",
    "suggestive",
    "mature",
    "explicit_soft",
    "explicit_nude",
    "explicit_sexual",
    "extreme",
]

L = MaturityLevel


def test_the_scale_has_seven_levels_in_order() -> None:
    assert [level.value for level in MaturityLevel] == SCALE
    assert [level.rank for level in MaturityLevel] == list(range(7))
    assert sorted(reversed(list(MaturityLevel))) == list(MaturityLevel)


def test_ordering_follows_the_scale_not_the_alphabet() -> None:
    assert L.MATURE < L.EXPLICIT_SOFT  # alphabetically "explicit_soft" < "mature"
    assert L.EXTREME > L.SFW
    assert L.MATURE <= L.MATURE
    assert L.MATURE >= L.SUGGESTIVE
    assert L.MATURE < "explicit_nude"
    assert max(L.EXPLICIT_NUDE, L.MATURE) is L.EXPLICIT_NUDE
    assert min(L.EXPLICIT_NUDE, L.MATURE) is L.MATURE


def test_levels_are_strings_with_labels_and_neutral_descriptions() -> None:
    for level in MaturityLevel:
        assert isinstance(level, str)
        assert level.label
        assert level.description.endswith(".")
        assert "\n" not in level.description
    assert not L.MATURE.is_explicit
    assert L.EXPLICIT_SOFT.is_explicit


@pytest.mark.parametrize("value", SCALE)
def test_parse_accepts_every_level(value: str) -> None:
    assert parse_maturity(value) is MaturityLevel(value)


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("explicit", L.EXPLICIT_NUDE),  # legacy 4-level value
        ("EXPLICIT", L.EXPLICIT_NUDE),
        ("sfw", L.SFW),
        ("suggestive", L.SUGGESTIVE),
        ("mature", L.MATURE),
        (" Explicit-Soft ", L.EXPLICIT_SOFT),
        (L.EXTREME, L.EXTREME),
    ],
)
def test_parse_maps_legacy_and_forgiving_spellings(value: str, level: MaturityLevel) -> None:
    assert parse_maturity(value) is level


@pytest.mark.parametrize("value", ["nsfw", "", "explicit_nudes", "7"])
def test_parse_rejects_unknown_values_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_maturity(value, field="maximumRating")
    assert caught.value.field == "maximumRating"
    assert "`maximumRating`" in caught.value.message
    assert ", ".join(SCALE) in caught.value.message


def test_comparing_with_an_unknown_string_fails_clearly() -> None:
    # The scale is the contract's (pydantic and stdlib only), so it raises a plain ValueError.
    with pytest.raises(ValueError, match=r"must be one of sfw.*got 'spicy'"):
        _ = L.MATURE < "spicy"


@pytest.mark.parametrize(
    ("level", "expected", "clamped"),
    [
        (L.SFW, L.SUGGESTIVE, True),
        (L.SUGGESTIVE, L.SUGGESTIVE, False),
        (L.MATURE, L.MATURE, False),
        (L.EXPLICIT_SOFT, L.EXPLICIT_SOFT, False),
        (L.EXPLICIT_NUDE, L.EXPLICIT_SOFT, True),
        (L.EXTREME, L.EXPLICIT_SOFT, True),
    ],
)
def test_clamp(level: MaturityLevel, expected: MaturityLevel, clamped: bool) -> None:
    assert clamp(level, minimum=L.SUGGESTIVE, maximum=L.EXPLICIT_SOFT) == (expected, clamped)


def test_clamp_refuses_an_empty_band() -> None:
    with pytest.raises(InvalidInput):
        clamp(L.SFW, minimum=L.MATURE, maximum=L.SFW)


def test_policy_reads_camel_case_and_snake_case() -> None:
    by_alias = MaturityPolicy.model_validate(
        {"allowExplicitContent": False, "defaultMinimum": "sfw", "defaultMaximum": "explicit"}
    )
    by_name = MaturityPolicy(
        allow_explicit_content=False, default_minimum=L.SFW, default_maximum=L.EXPLICIT_NUDE
    )
    assert by_alias == by_name
    assert by_alias.model_dump(by_alias=True) == {
        "allowExplicitContent": False,
        "defaultMinimum": "sfw",
        "defaultMaximum": "explicit_nude",
    }


@pytest.mark.parametrize(
    "data",
    [
        {"allowExplicitContent": True, "defaultMinimum": "sfw"},  # instance-owned: no defaults
        {"allowExplicitContent": True, "defaultMinimum": "mature", "defaultMaximum": "sfw"},
        {"allowExplicitContent": True, "defaultMinimum": "sfw", "defaultMaximum": "spicy"},
        {"allowExplicitContent": True, "defaultMinimum": "sfw", "defaultMaximum": "sfw", "x": 1},
    ],
)
def test_policy_rejects_bad_configuration(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MaturityPolicy.model_validate(data)


def _policy(*, explicit: bool, low: str = "sfw", high: str = "mature") -> MaturityPolicy:
    return MaturityPolicy.model_validate(
        {"allowExplicitContent": explicit, "defaultMinimum": low, "defaultMaximum": high}
    )


def test_band_defaults_to_the_policy() -> None:
    band = allowed_band(_policy(explicit=True, low="suggestive", high="explicit_nude"))
    assert band == MaturityBand(minimum=L.SUGGESTIVE, maximum=L.EXPLICIT_NUDE)


def test_band_takes_the_request_bounds() -> None:
    band = allowed_band(_policy(explicit=True), minimum="suggestive", maximum="explicit_sexual")
    assert band == MaturityBand(minimum=L.SUGGESTIVE, maximum=L.EXPLICIT_SEXUAL)


def test_without_explicit_content_the_band_stops_below_explicit_soft() -> None:
    policy = _policy(explicit=False, high="explicit_nude")
    assert allowed_band(policy).maximum is L.MATURE
    band = allowed_band(policy, minimum="explicit", maximum="extreme")
    assert band == MaturityBand(minimum=L.MATURE, maximum=L.MATURE)


def test_a_request_bound_beyond_a_default_moves_the_default() -> None:
    band = allowed_band(_policy(explicit=True, high="suggestive"), minimum="mature")
    assert band == MaturityBand(minimum=L.MATURE, maximum=L.MATURE)
    band = allowed_band(_policy(explicit=True, low="mature", high="extreme"), maximum="sfw")
    assert band == MaturityBand(minimum=L.SFW, maximum=L.SFW)


def test_band_errors_name_the_request_field() -> None:
    policy = _policy(explicit=True)
    with pytest.raises(InvalidInput) as caught:
        allowed_band(policy, maximum="spicy")
    assert caught.value.field == "maximumRating"
    with pytest.raises(InvalidInput) as caught:
        allowed_band(policy, minimum="explicit_nude", maximum="sfw")
    assert caught.value.field == "minimumRating"


def test_band_clamps_a_result_and_says_so() -> None:
    band = allowed_band(_policy(explicit=False))
    assert band.clamp("explicit") == (L.MATURE, True)
    assert band.clamp("suggestive") == (L.SUGGESTIVE, False)
    with pytest.raises(InvalidInput) as caught:
        band.clamp("spicy", field="expectedRating")
    assert caught.value.field == "expectedRating"
