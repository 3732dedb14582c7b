"""Live previews: a cheap latent → RGB picture while denoising, with no extra weights.

Each family's VAE latent is mapped to RGB by a fixed linear map (one row of R, G, B
weights per latent channel, plus a bias). The factors are the published
approximations of ComfyUI's ``comfy/latent_formats.py`` (``latent_rgb_factors`` and
``latent_rgb_factors_bias`` of ``SD15``, ``SDXL``, ``SD3`` and ``Flux``; Z-Image uses
the FLUX VAE, so ComfyUI's ``ZImage(Lumina2)`` model takes the ``Flux`` format). They
apply to the latent the denoiser sees, which is what diffusers' step callback hands us.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from imajin.engine.families import FamilyId

logger = logging.getLogger(__name__)

MAX_SIDE = 256  # pixels: a preview is a thumbnail, never the image
WEBP_QUALITY = 70


@dataclass(frozen=True)
class LatentRgb:
    """A linear map from a family's latent channels to RGB in [-1, 1]."""

    factors: tuple[tuple[float, float, float], ...]  # one (R, G, B) row per channel
    bias: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def channels(self) -> int:
        return len(self.factors)


_SD15 = LatentRgb(
    factors=(
        (0.3512, 0.2297, 0.3227),
        (0.3250, 0.4974, 0.2350),
        (-0.2829, 0.1762, 0.2721),
        (-0.2120, -0.2616, -0.7177),
    )
)
_SDXL = LatentRgb(
    factors=(
        (0.3651, 0.4232, 0.4341),
        (-0.2533, -0.0042, 0.1068),
        (0.1076, 0.1111, -0.0362),
        (-0.3165, -0.2492, -0.2188),
    ),
    bias=(0.1084, -0.0175, -0.0011),
)
_SD3 = LatentRgb(
    factors=(
        (-0.0922, -0.0175, 0.0749),
        (0.0311, 0.0633, 0.0954),
        (0.1994, 0.0927, 0.0458),
        (0.0856, 0.0339, 0.0902),
        (0.0587, 0.0272, -0.0496),
        (-0.0006, 0.1104, 0.0309),
        (0.0978, 0.0306, 0.0427),
        (-0.0042, 0.1038, 0.1358),
        (-0.0194, 0.0020, 0.0669),
        (-0.0488, 0.0130, -0.0268),
        (0.0922, 0.0988, 0.0951),
        (-0.0278, 0.0524, -0.0542),
        (0.0332, 0.0456, 0.0895),
        (-0.0069, -0.0030, -0.0810),
        (-0.0596, -0.0465, -0.0293),
        (-0.1448, -0.1463, -0.1189),
    ),
    bias=(0.2394, 0.2135, 0.1925),
)
_FLUX_VAE = LatentRgb(
    factors=(
        (-0.0346, 0.0244, 0.0681),
        (0.0034, 0.0210, 0.0687),
        (0.0275, -0.0668, -0.0433),
        (-0.0174, 0.0160, 0.0617),
        (0.0859, 0.0721, 0.0329),
        (0.0004, 0.0383, 0.0115),
        (0.0405, 0.0861, 0.0915),
        (-0.0236, -0.0185, -0.0259),
        (-0.0245, 0.0250, 0.1180),
        (0.1008, 0.0755, -0.0421),
        (-0.0515, 0.0201, 0.0011),
        (0.0428, -0.0012, -0.0036),
        (0.0817, 0.0765, 0.0749),
        (-0.1264, -0.0522, -0.1103),
        (-0.0280, -0.0881, -0.0499),
        (-0.1262, -0.0982, -0.0778),
    ),
    bias=(-0.0329, -0.0718, -0.0851),
)

LATENT_RGB: dict[FamilyId, LatentRgb] = {
    "sd15": _SD15,
    "sdxl": _SDXL,
    "sd3": _SD3,
    "zimage": _FLUX_VAE,
}


def latent_rgb(latents: torch.Tensor, family: FamilyId) -> np.ndarray:
    """The first image of ``latents`` (``B×C×h×w``) as an ``h×w×3`` uint8 array.

    Raises:
        ValueError: ``latents`` is not ``B×C×h×w`` with the family's channel count.
    """
    linear = LATENT_RGB[family]
    if latents.ndim != 4 or latents.shape[1] != linear.channels:
        raise ValueError(
            f"`latents` must be B×{linear.channels}×h×w for {family} but are {tuple(latents.shape)}"
        )
    channels, height, width = latents.shape[1:]
    first = latents[0].detach().float().reshape(channels, height * width)
    factors = torch.tensor(linear.factors, dtype=first.dtype, device=first.device)
    # The map runs where the latents are; only the small 3×h×w result crosses to the CPU,
    # where numpy finishes it (small torch CPU ops pay thread start-up many times over).
    rgb = (factors.T @ first).cpu().numpy() + np.asarray(linear.bias, dtype=np.float32)[:, None]
    pixels = ((np.clip(rgb, -1.0, 1.0) + 1.0) * 127.5).round().astype(np.uint8)
    return np.ascontiguousarray(pixels.reshape(3, height, width).transpose(1, 2, 0))


def preview_webp(latents: torch.Tensor, family: FamilyId) -> tuple[bytes, int, int]:
    """``latents`` as a small WebP: (bytes, width, height), the longer side at most 256 px.

    A latent pixel stands for 8×8 image pixels, so a small image is shown at its own size.
    """
    pixels = latent_rgb(latents, family)
    image = Image.fromarray(pixels)
    height, width = pixels.shape[:2]
    scale = min(8.0, MAX_SIDE / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = image.resize(size, Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    # method 0: libwebp's fastest; a preview lives for a second, its size hardly matters.
    image.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=0)
    return buffer.getvalue(), size[0], size[1]


@dataclass(frozen=True)
class Preview:
    """One live preview of a request.

    Attributes:
        webp: The picture, WebP-encoded.
        width: Pixels.
        height: Pixels.
        step: Steps done over the whole request when it was taken.
        total: Steps of the whole request.
        image: Index of the image it shows.
    """

    webp: bytes
    width: int
    height: int
    step: int
    total: int
    image: int


PreviewCallback = Callable[[Preview], None]


class LatentPreviewer:
    """Turns a step's latents into a :class:`Preview` at most every ``every_steps`` steps and
    ``min_interval_s`` seconds, so previews never cost the denoising loop much."""

    def __init__(
        self,
        *,
        family: FamilyId,
        sink: PreviewCallback,
        every_steps: int = 1,
        min_interval_s: float = 0.5,
    ) -> None:
        self._family = family
        self._sink = sink
        self._every_steps = max(every_steps, 1)
        self._min_interval_s = min_interval_s
        self._last: float | None = None
        self._off = False

    def __call__(self, latents: Any, *, step: int, total: int, image: int) -> None:
        """Called by the step tracker after each step with the callback's ``latents``."""
        if self._off or not isinstance(latents, torch.Tensor) or step % self._every_steps:
            return
        now = time.monotonic()
        if self._last is not None and now - self._last < self._min_interval_s:
            return
        self._last = now
        try:
            webp, width, height = preview_webp(latents, self._family)
        except ValueError as error:  # a latent layout we have no map for: no previews, no failure
            logger.warning("live previews off for this request: %s", error)
            self._off = True
            return
        self._sink(Preview(webp, width, height, step, total, image))
