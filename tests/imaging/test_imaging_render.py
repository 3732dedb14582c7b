"""Rendering with libvips: exact sizes, WebP output, centred crops, one bad input at a time."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import pyvips
from PIL import Image

from imajin.errors import InvalidInput, NotFound
from imajin.imaging import (
    FAMILIES,
    FamilySpec,
    ImagingError,
    ImagingSettings,
    RenderedImage,
    Size,
    encode_master,
    family,
    render_derivatives,
    render_family,
)

Pixels = Callable[[Size], np.ndarray]


def decode(image: RenderedImage) -> np.ndarray:
    decoded = pyvips.Image.new_from_buffer(image.data, "")
    assert decoded.get("vips-loader") == "webpload_buffer"
    return np.asarray(decoded.numpy())


def assert_centre_is_red(pixels: np.ndarray, name: str) -> None:
    red, green, blue = (int(c) for c in pixels[pixels.shape[0] // 2, pixels.shape[1] // 2, :3])
    assert red > 200 and green < 60 and blue < 60, f"{name}: centre is {(red, green, blue)}"


def master_webp(pixels: np.ndarray) -> bytes:
    return bytes(pyvips.Image.new_from_array(pixels).webpsave_buffer(Q=95, effort=0))


@pytest.mark.parametrize("spec", FAMILIES, ids=lambda spec: spec.name)
def test_every_derivative_is_webp_of_its_exact_size(
    spec: FamilySpec, master_pixels: Pixels
) -> None:
    rendered = render_derivatives(
        master_webp(master_pixels(spec.master)), spec.name, quality=80, effort=0
    )
    assert [image.name for image in rendered] == [d.name for d in spec.derivatives]
    for image, item in zip(rendered, spec.derivatives, strict=True):
        pixels = decode(image)
        assert pixels.shape[:2] == (item.size.height, item.size.width), item.name
        assert image.size == item.size
        assert image.filename == f"{item.name}-{item.size.width}x{item.size.height}.webp"
        assert not image.is_master and image.family == spec.name
        assert_centre_is_red(pixels, item.name)
        # Not mirrored: the red gradient still rises left to right.
        assert pixels[:, 0, 0].mean() < pixels[:, -1, 0].mean()


def test_webp_decodes_with_pillow_too(master_pixels: Pixels) -> None:
    rendered = render_derivatives(
        master_webp(master_pixels(Size(1200, 675))), "og", quality=85, effort=4
    )
    for image in rendered:
        with Image.open(io.BytesIO(image.data)) as opened:
            assert opened.format == "WEBP"
            assert opened.size == (image.size.width, image.size.height)


def test_master_from_a_file_and_threads_give_the_same_bytes(
    tmp_path: Path, master_pixels: Pixels
) -> None:
    path = tmp_path / "hero.webp"
    path.write_bytes(master_webp(master_pixels(Size(1536, 768))))
    one = render_derivatives(path, "hero", quality=80, effort=0, threads=1)
    many = render_derivatives(path, "hero", quality=80, effort=0, threads=3)
    assert [(i.name, i.sha256) for i in one] == [(i.name, i.sha256) for i in many]


def test_quality_changes_the_output(master_pixels: Pixels) -> None:
    master = master_webp(master_pixels(Size(300, 600)))
    low = render_derivatives(master, "sidebar", quality=20, effort=0)
    high = render_derivatives(master, "sidebar", quality=95, effort=0)
    assert all(len(a.data) < len(b.data) for a, b in zip(low, high, strict=True))


@pytest.mark.parametrize("source", ["pil", "array", "grey", "rgba"])
def test_render_family_fits_any_generated_image_to_the_master(
    source: str, master_pixels: Pixels
) -> None:
    # A 1024x640 generation for the og family (1200x675 master): crop, then upscale.
    pixels = master_pixels(Size(1024, 640))
    generated: object = {
        "pil": Image.fromarray(pixels),
        "array": pixels,
        "grey": pixels[..., 0],
        "rgba": np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)]),
    }[source]
    settings = ImagingSettings(webp_quality=80, master_quality=90, webp_effort=0, threads=2)
    rendered = render_family(generated, "og", settings=settings)
    master, *derivatives = rendered
    assert master.is_master and master.name == "og" and master.size == Size(1200, 675)
    assert [d.name for d in derivatives] == [d.name for d in family("og").derivatives]
    for image in rendered:
        assert decode(image).shape[:2] == (image.size.height, image.size.width)
    if source != "grey":
        assert_centre_is_red(decode(master), "og master")


def test_encode_master_crops_then_resizes_to_the_master(master_pixels: Pixels) -> None:
    image = encode_master(master_pixels(Size(2048, 512)), "header", quality=90)
    assert image.is_master and image.filename == "header-1584x396.webp"
    pixels = decode(image)
    assert pixels.shape[:2] == (396, 1584)
    assert_centre_is_red(pixels, "header master")


def test_wrong_master_size_is_refused(master_pixels: Pixels) -> None:
    with pytest.raises(InvalidInput) as caught:
        render_derivatives(master_webp(master_pixels(Size(1000, 1000))), "square", quality=80)
    assert caught.value.field == "master"
    assert "1024x1024" in caught.value.message


def test_undecodable_master_is_an_imaging_error() -> None:
    with pytest.raises(ImagingError):
        render_derivatives(b"RIFF\x00\x00\x00\x00WEBPnot really", "square", quality=80)


def test_bad_inputs_are_refused(master_pixels: Pixels) -> None:
    master = master_webp(master_pixels(Size(300, 600)))
    with pytest.raises(InvalidInput) as caught:
        render_derivatives(master, "sidebar", quality=0)
    assert caught.value.field == "quality"
    with pytest.raises(InvalidInput) as caught:
        render_derivatives(master, "sidebar", quality=80, effort=7)
    assert caught.value.field == "effort"
    with pytest.raises(NotFound):
        render_derivatives(master, "panorama", quality=80)
    with pytest.raises(InvalidInput) as caught:
        encode_master(np.zeros((10, 10, 3), dtype=np.float32), "sidebar", quality=80)
    assert caught.value.field == "image"


def test_same_size_derivatives_share_one_encoding(master_pixels: Pixels) -> None:
    rendered = render_derivatives(
        master_webp(master_pixels(Size(1080, 1920))), "tall", quality=80, effort=0
    )
    by_name = {image.name: image for image in rendered}
    assert by_name["tall"].data == by_name["story"].data
    assert by_name["tall"].sha256 == by_name["story"].sha256
    assert by_name["story-sm"].size == Size(540, 960)


def test_render_family_master_is_encode_master(master_pixels: Pixels) -> None:
    generated = master_pixels(Size(704, 1408))
    settings = ImagingSettings(master_quality=90, webp_effort=0)
    master = render_family(generated, "sidebar", settings=settings)[0]
    alone = encode_master(generated, "sidebar", quality=90, effort=0)
    assert master == alone
