"""Synthetic masters: a colour gradient with a red block marking the centre."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from imajin.imaging import Size

RED = (255, 0, 0)


def gradient_with_centre(size: Size) -> np.ndarray:
    """Red rises left to right, green top to bottom; a red block covers the centre 10%."""
    x = np.linspace(0, 200, size.width, dtype=np.float32)[None, :]
    y = np.linspace(0, 200, size.height, dtype=np.float32)[:, None]
    image = np.empty((size.height, size.width, 3), dtype=np.uint8)
    image[..., 0] = np.broadcast_to(x, (size.height, size.width))
    image[..., 1] = np.broadcast_to(y, (size.height, size.width))
    image[..., 2] = 128
    half_w, half_h = max(size.width // 20, 4), max(size.height // 20, 4)
    cx, cy = size.width // 2, size.height // 2
    image[cy - half_h : cy + half_h, cx - half_w : cx + half_w] = RED
    return image


@pytest.fixture
def master_pixels() -> Callable[[Size], np.ndarray]:
    return gradient_with_centre
