"""The training folder: images with a caption ``.txt`` of the same stem, read and cropped.

:func:`scan_dataset` checks the whole folder before anything heavy happens, so
a missing caption fails at once and names the file. :func:`load_image` then
turns one image into the square array the VAE encodes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from imajin.errors import NotFound
from imajin.training.errors import TrainingDataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
CAPTION_SUFFIX = ".txt"


@dataclass(frozen=True)
class TrainingExample:
    """One image and its caption."""

    image: Path
    caption: str


@dataclass(frozen=True)
class PreparedImage:
    """An image resized and centre-cropped to a square, ready for the VAE.

    Attributes:
        pixels: ``float32`` array of shape (3, side, side) in [-1, 1].
        original_size: (height, width) of the file before resizing.
        crop_top_left: (top, left) of the crop in the resized image (SDXL conditions on it).
    """

    pixels: np.ndarray
    original_size: tuple[int, int]
    crop_top_left: tuple[int, int]


def scan_dataset(folder: Path) -> list[TrainingExample]:
    """Every image in ``folder`` (not recursive, sorted by name) with its caption.

    Raises:
        NotFound: ``folder`` is not a directory.
        TrainingDataError: No images, or an image without a caption file, or an
            empty caption; the message names the file and says how to fix it.
    """
    if not folder.is_dir():
        raise NotFound(f"training folder {folder} does not exist or is not a folder", field="data")
    images = sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")
    )
    if not images:
        raise TrainingDataError(
            f"no images in {folder}: add images ({', '.join(IMAGE_SUFFIXES)}) with a caption "
            f"file each (photo.png + photo{CAPTION_SUFFIX})",
            field="data",
        )
    for path in images:
        _check_image(path)
    return [TrainingExample(image=path, caption=_read_caption(path)) for path in images]


def _check_image(path: Path) -> None:
    # Image.open reads only the header: cheap, and it catches non-images before a model loads.
    try:
        Image.open(path).close()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise _unreadable(path, exc) from exc


def _unreadable(path: Path, exc: Exception) -> TrainingDataError:
    return TrainingDataError(
        f"{path.name} is not a readable image ({exc}); replace or remove it", field="data"
    )


def _read_caption(image: Path) -> str:
    caption_file = image.with_suffix(CAPTION_SUFFIX)
    if not caption_file.is_file():
        raise TrainingDataError(
            f"{image.name} has no caption: write what it shows in {caption_file.name} "
            "next to it (one line of text)",
            field="data",
        )
    try:
        caption = caption_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainingDataError(
            f"caption {caption_file.name} is not readable UTF-8 text: {exc}", field="data"
        ) from exc
    if not caption:
        raise TrainingDataError(
            f"caption {caption_file.name} is empty: describe {image.name} in it", field="data"
        )
    # Line breaks in caption files are formatting, not meaning.
    return " ".join(caption.split())


def dataset_digest(examples: list[TrainingExample]) -> str:
    """SHA-256 over names, sizes and captions: changes when the training data does.

    File sizes stand in for contents so a large folder is not read twice.
    """
    digest = hashlib.sha256()
    for example in examples:
        digest.update(example.image.name.encode())
        digest.update(str(example.image.stat().st_size).encode())
        digest.update(example.caption.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def load_image(path: Path, *, side: int) -> PreparedImage:
    """Read ``path``, scale its shorter side to ``side`` and crop the centre square.

    Raises:
        TrainingDataError: The file is not an image Pillow can read.
    """
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise _unreadable(path, exc) from exc
    width, height = image.size
    scale = side / min(width, height)
    resized_w, resized_h = max(side, round(width * scale)), max(side, round(height * scale))
    image = image.resize((resized_w, resized_h), Image.Resampling.LANCZOS)
    left, top = (resized_w - side) // 2, (resized_h - side) // 2
    image = image.crop((left, top, left + side, top + side))
    pixels = np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    return PreparedImage(
        pixels=np.ascontiguousarray(pixels),
        original_size=(height, width),
        crop_top_left=(top, left),
    )
