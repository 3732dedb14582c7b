"""Live previews: the latent → RGB map per family, and previews from real tiny pipelines."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from imajin.engine import Engine
from imajin.engine.families import FAMILY_IDS, FamilyId
from imajin.engine.preview import LATENT_RGB, Preview, latent_rgb, preview_webp


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_the_map_gives_an_rgb_image_of_the_latent_size(family: FamilyId) -> None:
    channels = LATENT_RGB[family].channels
    latents = torch.randn(2, channels, 12, 20, generator=torch.Generator().manual_seed(3)) * 4
    rgb = latent_rgb(latents, family)
    assert rgb.shape == (12, 20, 3) and rgb.dtype == np.uint8
    # Strong latents saturate: the clamp keeps every value a colour, and both ends are reached.
    assert int(rgb.min()) == 0 and int(rgb.max()) == 255


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_each_channel_adds_its_published_row(family: FamilyId) -> None:
    linear = LATENT_RGB[family]
    zero = latent_rgb(torch.zeros(1, linear.channels, 1, 1), family)[0, 0]
    expected_zero = [round((bias + 1) * 127.5) for bias in linear.bias]
    assert zero.tolist() == expected_zero
    one_hot = torch.zeros(1, linear.channels, 1, 1)
    one_hot[0, 1] = 1.0  # the second channel alone
    shown = latent_rgb(one_hot, family)[0, 0]
    row = linear.factors[1]
    assert shown.tolist() == [
        round((min(max(w + b, -1), 1) + 1) * 127.5) for w, b in zip(row, linear.bias, strict=True)
    ]


def test_only_the_first_image_of_a_batch_is_shown() -> None:
    latents = torch.stack([torch.zeros(4, 2, 2), torch.full((4, 2, 2), 3.0)])
    assert latent_rgb(latents, "sd15").tolist() == latent_rgb(latents[:1], "sd15").tolist()


def test_a_latent_of_the_wrong_layout_names_the_expected_shape() -> None:
    with pytest.raises(ValueError, match=r"B×16×h×w for sd3 but are \(1, 4, 8, 8\)"):
        latent_rgb(torch.zeros(1, 4, 8, 8), "sd3")


@pytest.mark.parametrize(("latent", "size"), [((8, 8), (64, 64)), ((128, 96), (256, 192))])
def test_the_webp_is_small_and_decodes(latent: tuple[int, int], size: tuple[int, int]) -> None:
    webp, width, height = preview_webp(torch.randn(1, 4, *latent), "sd15")
    decoded = Image.open(io.BytesIO(webp))
    assert decoded.format == "WEBP"
    assert decoded.size == (width, height) == (size[1], size[0])
    assert len(webp) < 40_000


@pytest.mark.parametrize("model", ["tiny-sd15", "tiny-sdxl", "tiny-sd3", "tiny-zimage"])
def test_every_family_previews_its_real_latents(
    make_engine: Callable[..., tuple[Engine, Any]], model: str
) -> None:
    engine, _ = make_engine(preview_interval_s=0.0)
    seen: list[Preview] = []
    result = engine.generate(
        {"prompt": "a red apple", "model": model, "steps": 2, "seed": 5}, preview=seen.append
    )
    assert [shown.step for shown in seen] == [1, 2]
    native = result.images[0].image.size
    for shown in seen:
        decoded = Image.open(io.BytesIO(shown.webp))
        assert decoded.size == (shown.width, shown.height) == native  # tiny: 8 px per latent
        assert (shown.total, shown.image) == (2, 0)


def test_throttles_and_the_off_switch(make_engine: Callable[..., tuple[Engine, Any]]) -> None:
    request = {"prompt": "a red apple", "model": "tiny-sd15", "steps": 4, "num_images": 2}
    engine, _ = make_engine(preview_interval_s=0.0, preview_every_steps=3)
    seen: list[Preview] = []
    engine.generate(request, preview=seen.append)
    assert [(shown.step, shown.image) for shown in seen] == [(3, 0), (6, 1)]

    engine, _ = make_engine(preview_interval_s=3600.0)
    seen = []
    engine.generate(request, preview=seen.append)
    assert len(seen) == 1  # the first step; the interval holds back the rest

    engine, _ = make_engine(previews=False, preview_interval_s=0.0)
    seen = []
    engine.generate(request, preview=seen.append)
    assert seen == []
