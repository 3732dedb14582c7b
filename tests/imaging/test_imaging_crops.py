"""Safe-zone crop geometry, over every family and over random sizes (hypothesis)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imajin.errors import InvalidInput
from imajin.imaging import (
    FAMILIES,
    FAMILY_NAMES,
    CropBox,
    Size,
    plan_crop,
    plan_family_crops,
    safe_zone_box,
)

sides = st.integers(min_value=1, max_value=5000)
sizes = st.builds(Size, sides, sides)
fractions = st.floats(min_value=0.6, max_value=0.8)


def ratio_allows_safe_zone(master: Size, target: Size, zone: CropBox) -> bool:
    """Whether a crop at target's ratio inside master can hold zone, with a pixel to spare.

    The largest crop is master-wide (height W·th/tw) or master-tall (width H·tw/th);
    it holds the zone when that free side is at least the zone's.
    """
    ratio = Fraction(target.width, target.height)
    return (zone.width + 1) <= master.height * ratio and (zone.height + 1) * ratio <= master.width


def ratio_forbids_safe_zone(master: Size, target: Size, zone: CropBox) -> bool:
    ratio = Fraction(target.width, target.height)
    return (zone.width - 1) > master.height * ratio or (zone.height - 1) * ratio > master.width


@pytest.mark.parametrize("safe_zone", [0.6, 0.7, 0.8])
@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_every_derivative_crop_keeps_the_safe_zone_when_it_can(name: str, safe_zone: float) -> None:
    spec = next(spec for spec in FAMILIES if spec.name == name)
    zone = safe_zone_box(spec.master, fraction=safe_zone)
    for crop in plan_family_crops(name, safe_zone=safe_zone):
        box = crop.box
        assert box.left >= 0 and box.right <= spec.master.width
        assert box.top >= 0 and box.bottom <= spec.master.height
        assert crop.keeps_safe_zone == box.contains(zone)
        if ratio_allows_safe_zone(spec.master, crop.size, zone):
            assert box.contains(zone), crop.derivative


def test_only_the_banner_cannot_hold_the_safe_zone() -> None:
    # 320x50 (6.4:1) from a 1.875:1 master: no crop of that ratio holds 70% of the height.
    lost = [
        crop.derivative
        for name in FAMILY_NAMES
        for crop in plan_family_crops(name)
        if not crop.keeps_safe_zone
    ]
    assert lost == ["mobile-banner"]


def test_banner_crop_is_centred_full_width() -> None:
    box = plan_crop(Size(1500, 800), Size(320, 50))
    assert (box.left, box.width) == (0, 1500)
    assert box.height == 234  # 1500 * 50 / 320 = 234.4
    assert box.top == (800 - 234) // 2


def test_safe_zone_is_centred_and_bounded() -> None:
    zone = safe_zone_box(Size(1000, 500), fraction=0.7)
    assert zone == CropBox(150, 75, 700, 350)
    for bad in (0.5, 0.81):
        with pytest.raises(InvalidInput) as caught:
            safe_zone_box(Size(1000, 500), fraction=bad)
        assert caught.value.field == "safe_zone"


@given(master=sizes, target=sizes)
def test_crop_stays_inside_the_master(master: Size, target: Size) -> None:
    box = plan_crop(master, target)
    assert box.width >= 1 and box.height >= 1
    assert box.left >= 0 and box.right <= master.width
    assert box.top >= 0 and box.bottom <= master.height


def rounded_from(free_side: int, exact: Fraction) -> bool:
    """Whether free_side is exact rounded to a whole pixel (at least 1)."""
    return abs(free_side - exact) <= Fraction(1, 2) or (free_side == 1 and exact < 1)


@given(master=sizes, target=sizes)
def test_crop_has_the_target_ratio_within_rounding(master: Size, target: Size) -> None:
    box = plan_crop(master, target)
    ratio = Fraction(target.width, target.height)
    # One side is the master's; the other is the exact value at the ratio, rounded.
    master_wide = box.width == master.width and rounded_from(box.height, box.width / ratio)
    master_tall = box.height == master.height and rounded_from(box.width, box.height * ratio)
    assert master_wide or master_tall


@given(master=sizes, target=sizes)
def test_crop_is_the_largest_centred_one(master: Size, target: Size) -> None:
    box = plan_crop(master, target)
    assert box.width == master.width or box.height == master.height
    assert box.left == (master.width - box.width) // 2
    assert box.top == (master.height - box.height) // 2


@given(master=sizes, target=sizes, fraction=fractions)
def test_crop_contains_the_safe_zone_when_the_ratios_allow(
    master: Size, target: Size, fraction: float
) -> None:
    zone = safe_zone_box(master, fraction=fraction)
    box = plan_crop(master, target)
    if ratio_allows_safe_zone(master, target, zone):
        assert box.contains(zone)
    if ratio_forbids_safe_zone(master, target, zone):
        assert not box.contains(zone)
    # Either way it covers as much of the zone as a crop of its size can: all of
    # the zone along the side where it is larger, centred along the other.
    expected = min(box.width, zone.width) * min(box.height, zone.height)
    assert box.overlap_area(zone) == expected
