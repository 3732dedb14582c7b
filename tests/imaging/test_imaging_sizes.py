"""The size matrix: every family, master and derivative, and the lookups."""

from __future__ import annotations

import pytest

from imajin.errors import InvalidInput, NotFound
from imajin.imaging import (
    DERIVATIVE_NAMES,
    FAMILIES,
    FAMILY_NAMES,
    FamilySpec,
    Size,
    all_derivatives,
    derivative,
    family,
    family_derivatives,
)

# The whole table, written out: a change to any size must change this test too.
EXPECTED = {
    "square": ((1024, 1024), {
        "square": (1024, 1024), "square-sm": (512, 512), "square-xs": (128, 128),
        "icon": (256, 256), "thumbnail": (150, 150),
    }),
    "hero": ((1536, 768), {"hero": (1536, 768), "hero-md": (1024, 512), "hero-sm": (768, 384)}),
    "portrait": ((768, 1024), {
        "portrait": (768, 1024), "portrait-sm": (384, 512), "portrait-xs": (240, 320),
    }),
    "og": ((1200, 675), {
        "og": (1200, 675), "facebook-og": (1200, 630), "twitter-large": (1200, 675),
        "linkedin-share": (1200, 628), "twitter-small": (600, 314),
    }),
    "compact": ((1500, 800), {
        "compact": (750, 400), "compact-2x": (1500, 800), "mobile-banner": (320, 50),
    }),
    "tall": ((1080, 1920), {"tall": (1080, 1920), "story": (1080, 1920), "story-sm": (540, 960)}),
    "ultrawide": ((2560, 1080), {
        "ultrawide": (2560, 1080), "ultrawide-md": (1920, 810), "ultrawide-sm": (1280, 540),
    }),
    "sidebar": ((300, 600), {"sidebar": (300, 600), "sidebar-sm": (150, 300)}),
    "header": ((1584, 396), {
        "linkedin-cover": (1584, 396), "header-wide": (1500, 375), "header-sm": (792, 198),
    }),
}  # fmt: skip

# Sizes SPEC §3.1 fixes (compact's master excepted: SPEC's Instead rule grows it).
SPEC_SIZES = {
    "square": (1024, 1024), "icon": (256, 256), "facebook-og": (1200, 630),
    "twitter-large": (1200, 675), "linkedin-share": (1200, 628), "compact": (750, 400),
    "linkedin-cover": (1584, 396),
}  # fmt: skip


def test_table_lists_every_family_master_and_derivative_exactly() -> None:
    actual = {
        spec.name: (
            (spec.master.width, spec.master.height),
            {d.name: (d.size.width, d.size.height) for d in spec.derivatives},
        )
        for spec in FAMILIES
    }
    assert actual == EXPECTED


def test_nine_families_in_spec_order() -> None:
    assert FAMILY_NAMES == (
        "square", "hero", "portrait", "og", "compact", "tall", "ultrawide", "sidebar", "header",
    )  # fmt: skip


def test_at_least_thirty_derivatives_with_unique_names() -> None:
    names = [d.name for d in all_derivatives()]
    assert len(names) >= 30
    assert len(set(names)) == len(names)
    assert tuple(names) == DERIVATIVE_NAMES


def test_sizes_spec_gives_are_kept() -> None:
    for name, (width, height) in SPEC_SIZES.items():
        assert derivative(name).size == Size(width, height), name


@pytest.mark.parametrize("spec", FAMILIES, ids=lambda spec: spec.name)
def test_master_is_at_least_as_large_as_every_derivative(spec: FamilySpec) -> None:
    for item in spec.derivatives:
        assert item.size.fits_in(spec.master), f"{item.name} {item.size} > master {spec.master}"
    assert spec.largest_derivative.fits_in(spec.master)


def test_compact_master_grew_to_hold_compact_2x() -> None:
    spec = family("compact")
    assert derivative("compact-2x").size.fits_in(spec.master)
    # Same ratio as SPEC's 750x400, so "compact" is an exact downscale.
    assert spec.master.width * 400 == spec.master.height * 750


def test_every_derivative_knows_its_family() -> None:
    for spec in FAMILIES:
        assert family_derivatives(spec.name) == spec.derivatives
        for item in spec.derivatives:
            assert derivative(item.name).family == spec.name


def test_unknown_family_lists_the_known_ones() -> None:
    with pytest.raises(NotFound) as caught:
        family("panorama")
    assert caught.value.field == "family"
    assert "panorama" in caught.value.message
    assert all(name in caught.value.message for name in FAMILY_NAMES)


def test_unknown_derivative_lists_the_known_ones() -> None:
    with pytest.raises(NotFound) as caught:
        derivative("square-xxl")
    assert caught.value.field == "derivative"
    assert "twitter-small" in caught.value.message


def test_size_rejects_non_positive_sides() -> None:
    with pytest.raises(InvalidInput):
        Size(0, 10)
    assert str(Size(1200, 675)) == "1200x675"
