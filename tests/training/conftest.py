"""Training fixtures: a small folder of synthetic captioned images and fast settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from imajin.config.training import TrainingSettings

_SHAPES = ("circle", "square", "triangle", "ring", "bar")
_COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 70, 220)}
# Sizes that are not square, so resizing and centre-cropping run for real.
_SIZES = ((80, 64), (64, 96), (72, 72), (120, 80), (64, 64))


def write_training_set(folder: Path, *, count: int = 5, seed: int = 0) -> Path:
    """Write ``count`` synthetic images (a coloured shape on a gradient) with captions."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        width, height = _SIZES[index % len(_SIZES)]
        shape = _SHAPES[index % len(_SHAPES)]
        colour_name = list(_COLOURS)[index % len(_COLOURS)]
        ramp = np.linspace(0, 255, width, dtype=np.float32)
        background = np.stack([ramp, ramp[::-1], np.full_like(ramp, 128)], axis=-1)
        pixels = np.broadcast_to(background, (height, width, 3)).astype(np.uint8)
        image = Image.fromarray(pixels.copy())
        draw = ImageDraw.Draw(image)
        x, y = int(rng.integers(8, width // 2)), int(rng.integers(8, height // 2))
        box = (x, y, x + width // 3, y + height // 3)
        colour = _COLOURS[colour_name]
        if shape in ("circle", "ring"):
            draw.ellipse(box, fill=None if shape == "ring" else colour, outline=colour, width=3)
        elif shape == "triangle":
            draw.polygon(
                [(box[0], box[3]), (box[2], box[3]), ((box[0] + box[2]) // 2, box[1])], colour
            )
        else:
            draw.rectangle(box, fill=colour)
        image.save(folder / f"item{index:02d}.png")
        (folder / f"item{index:02d}.txt").write_text(
            f"a {colour_name} {shape} on a soft gradient, flat vector style\n", encoding="utf-8"
        )
    return folder


@pytest.fixture
def training_dir(tmp_path: Path) -> Path:
    """Five captioned synthetic images of different sizes."""
    return write_training_set(tmp_path / "set")


@pytest.fixture
def quick_settings() -> TrainingSettings:
    """Six steps at 64 px on the CPU, checkpoint every 3: a run takes well under a second."""
    return TrainingSettings(
        rank=4,
        alpha=8,
        learning_rate=1e-2,
        max_steps=6,
        save_every=3,
        resolution=64,
        seed=7,
        device="cpu",
    )
