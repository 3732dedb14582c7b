"""Generation plans: model sizes in multiples of 64, the exact master from crop + resize."""

from __future__ import annotations

import math

import pytest
import pyvips

from imajin.errors import InvalidInput, NotFound
from imajin.imaging import FAMILY_NAMES, family, plan_generation, safe_zone_prompt_hint
from imajin.imaging.render import encode_master

NATIVES = [512, 1024, 1440]
# The chosen size's ratio is within 5% of the master's and its area within 15% of
# native²: the nearest multiples of 64 allow no better for ratios like 2.37:1 at 512.
ASPECT_TOLERANCE = 0.05
AREA_TOLERANCE = 0.15


@pytest.mark.parametrize("native", NATIVES)
@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_generation_size_is_multiples_of_64_near_the_ratio_and_budget(
    name: str, native: int
) -> None:
    plan = plan_generation(name, native=native)
    assert plan.generate.width % 64 == 0
    assert plan.generate.height % 64 == 0
    assert abs(math.log(plan.generate.aspect / plan.master.aspect)) <= ASPECT_TOLERANCE
    assert abs(plan.generate.area / native**2 - 1) <= AREA_TOLERANCE


@pytest.mark.parametrize("native", NATIVES)
@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_crop_then_resize_reaches_the_exact_master(name: str, native: int) -> None:
    plan = plan_generation(name, native=native)
    crop = plan.crop
    assert plan.master == family(name).master
    assert crop.left >= 0 and crop.right <= plan.generate.width
    assert crop.top >= 0 and crop.bottom <= plan.generate.height
    # The crop has the master's ratio to within a pixel, so the resize is uniform.
    assert abs(crop.width * plan.master.height - crop.height * plan.master.width) <= max(
        plan.master.width, plan.master.height
    )
    assert plan.scale == pytest.approx(plan.master.height / crop.height, rel=0.01)


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_a_generated_image_of_the_planned_size_encodes_to_the_exact_master(name: str) -> None:
    plan = plan_generation(name, native=512)
    generated = pyvips.Image.black(plan.generate.width, plan.generate.height, bands=3)
    master = encode_master(generated, name, quality=80)
    decoded = pyvips.Image.new_from_buffer(master.data, "")
    assert (decoded.width, decoded.height) == (plan.master.width, plan.master.height)
    assert master.size == plan.master


def test_sizes_a_model_cannot_make_come_from_the_crop() -> None:
    # 1200x675 and 1584x396 are not multiples of 8; the model is asked for neither.
    for name in ("og", "header"):
        plan = plan_generation(name, native=1024)
        assert plan.generate != plan.master
        assert plan.generate.width % 64 == plan.generate.height % 64 == 0


def test_square_at_native_is_the_native_size() -> None:
    plan = plan_generation("square", native=1024)
    assert (plan.generate.width, plan.generate.height) == (1024, 1024)
    assert plan.scale == 1


def test_bad_native_and_family_are_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        plan_generation("square", native=32)
    assert caught.value.field == "native"
    with pytest.raises(NotFound):
        plan_generation("panorama", native=1024)


def test_prompt_hint_names_composition_only() -> None:
    hint = safe_zone_prompt_hint()
    assert "centered" in hint
    assert "central" in hint
