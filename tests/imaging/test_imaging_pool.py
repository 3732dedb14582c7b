"""The shared derivative pool: the per-family path's bytes, any number of families in flight."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
import pyvips
from skimage import data

from imajin.errors import InvalidInput, NotFound
from imajin.imaging import (
    DerivativePool,
    ImagingSettings,
    RenderedImage,
    Size,
    family,
    render_derivatives,
    render_family,
)

# effort 0 keeps the encodes fast; the bytes still depend on every pixel.
SETTINGS = ImagingSettings(webp_quality=80, master_quality=90, webp_effort=0, threads=2)
# A photograph (512x512): real texture, so a changed pixel changes the bytes.
PHOTO = data.astronaut()
SMALL = ("sidebar", "header", "portrait")


def as_bytes(images: list[RenderedImage]) -> list[tuple[str, bool, Size, bytes]]:
    return [(image.name, image.is_master, image.size, image.data) for image in images]


@pytest.fixture(params=[1, 3], ids=["1-thread", "3-threads"])
def pool(request: pytest.FixtureRequest) -> Iterator[DerivativePool]:
    pool = DerivativePool(threads=request.param)
    yield pool
    pool.close()


def test_families_in_flight_at_once_equal_the_per_family_path_byte_for_byte(
    pool: DerivativePool,
) -> None:
    # Three families in flight at once, also on one thread: nothing waits inside the pool.
    # (The smallest three, to keep the test fast; the benchmark compares all nine.)
    futures = {name: pool.submit_family(PHOTO, name, settings=SETTINGS) for name in SMALL}
    for name, future in futures.items():
        assert as_bytes(future.result(timeout=60)) == as_bytes(
            render_family(PHOTO, name, settings=SETTINGS)
        ), name


def test_derivatives_from_a_stored_master_equal_render_derivatives(pool: DerivativePool) -> None:
    spec = family("og")
    fitted = render_family(PHOTO, spec.name, settings=SETTINGS)[0].data  # the master's WebP
    shared = pool.submit_derivatives(fitted, spec.name, quality=75, effort=0)
    alone = render_derivatives(fitted, spec.name, quality=75, effort=0, threads=1)
    assert as_bytes(shared.result(timeout=60)) == as_bytes(alone)


def test_a_failing_family_fails_alone(
    pool: DerivativePool, master_pixels: Callable[[Size], np.ndarray]
) -> None:
    wrong = bytes(pyvips.Image.new_from_array(master_pixels(Size(100, 100))).webpsave_buffer())
    bad = pool.submit_derivatives(wrong, "sidebar", quality=80, effort=0)
    good = pool.submit_family(PHOTO, "sidebar", settings=SETTINGS)
    with pytest.raises(InvalidInput, match="sidebar master must be"):
        bad.result(timeout=60)
    assert next(image.name for image in good.result(timeout=60)) == "sidebar"


def test_an_unknown_family_or_bad_quality_is_refused_at_submit(pool: DerivativePool) -> None:
    with pytest.raises(NotFound):
        pool.submit_family(PHOTO, "panorama", settings=SETTINGS)
    with pytest.raises(InvalidInput):
        pool.submit_derivatives(b"", "sidebar", quality=0)


def test_the_pool_size_follows_the_setting() -> None:
    sized = DerivativePool(threads=2)
    assert sized.threads == 2
    sized.close()
    assert DerivativePool(threads=0).threads >= 1
