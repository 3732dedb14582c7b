"""Studio output files: folder and file names, and writing an image with its sidecar.

Layout (SPEC §5), under ``<data_dir>/outputs``::

    <set>_<timestamp>/<timestamp>_<item>.png      the image, parameters embedded
    <set>_<timestamp>/<timestamp>_<item>.json     its sidecar: the same parameters + studio data
    <set>_<timestamp>/thumbs/<timestamp>_<item>.webp   a small copy for galleries
    single_<timestamp>/<timestamp>_<seed>.png     POST /api/generate (same three files)

Every file is written to a temporary name and renamed; the image is renamed
last, so an image that exists always has its sidecar, and a failure removes
whatever of the three was already written.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from PIL import Image

from imajin.engine.metadata import save_image
from imajin.engine.parameters import GenerationParameters
from imajin.storage.base import FileStorage

OUTPUTS_URL = "/api/outputs"
THUMBNAILS = "thumbs"
_MAX_SUFFIX = 1000


def stamp(moment: datetime) -> str:
    """The ``<timestamp>`` of folder and file names: UTC, sortable, no separators to escape."""
    return moment.strftime("%Y%m%d-%H%M%S")


def reserve_folder(outputs: FileStorage, prefix: str, timestamp: str) -> str:
    """Create and return a new folder ``<prefix>_<timestamp>`` (``-2``, ``-3``... if taken).

    Creating it is the reservation: two batches started in the same second get
    different folders, on one machine or on a shared volume.
    """
    outputs.root.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, _MAX_SUFFIX):
        name = f"{prefix}_{timestamp}" + (f"-{attempt}" if attempt > 1 else "")
        try:
            outputs.path(name).mkdir()
        except FileExistsError:
            continue
        return name
    raise FileExistsError(f"no free output folder for {prefix}_{timestamp}")


def release_folder(outputs: FileStorage, name: str) -> None:
    """Remove a reserved folder if it holds no file (empty ``thumbs/`` folders go with it).

    Used when nothing was queued for it, and when its ``generate`` job failed.
    """
    path = outputs.path(name)
    if not path.is_dir():
        return
    entries = list(path.rglob("*"))
    if any(not entry.is_dir() for entry in entries):
        return  # something was written there: it is not ours to remove
    try:
        for folder in sorted([path, *entries], key=lambda p: len(p.parts), reverse=True):
            folder.rmdir()  # deepest first
    except OSError:
        return  # a file arrived meanwhile: the folder stays


def output_url(name: str) -> str:
    return f"{OUTPUTS_URL}/{name}"


@dataclass(frozen=True)
class StoredOutput:
    """The three files of one image, as names relative to the outputs root."""

    image: str
    sidecar: str
    thumbnail: str

    def as_result(self) -> dict[str, str]:
        """The job-result view: names and their URLs."""
        return {
            "image": self.image,
            "sidecar": self.sidecar,
            "thumbnail": self.thumbnail,
            "imageUrl": output_url(self.image),
            "sidecarUrl": output_url(self.sidecar),
            "thumbnailUrl": output_url(self.thumbnail),
        }


def sidecar_name(image_name: str) -> str:
    return str(PurePosixPath(image_name).with_suffix(".json"))


def thumbnail_name(image_name: str) -> str:
    path = PurePosixPath(image_name)
    return str(path.parent / THUMBNAILS / f"{path.stem}.webp")


def sidecar_document(parameters: GenerationParameters, studio: dict[str, Any]) -> dict[str, Any]:
    """What a sidecar holds: the embedded parameters, plus where the image came from.

    ``read_metadata`` reads it like the engine's own sidecars (unknown keys are ignored).
    """
    return {**parameters.model_dump(mode="json", by_alias=True), "studio": studio}


def write_output(
    outputs: FileStorage,
    image_name: str,
    *,
    image: Image.Image,
    parameters: GenerationParameters,
    studio: dict[str, Any],
    embed: bool = True,
    quality: int = 95,
    thumbnail_px: int = 256,
) -> StoredOutput:
    """Write an image (parameters embedded), its JSON sidecar and its thumbnail, atomically.

    Raises:
        UnsafePath: ``image_name`` would leave the outputs root.
        OSError: A write failed; none of the three files is left behind.
    """
    stored = StoredOutput(
        image=image_name, sidecar=sidecar_name(image_name), thumbnail=thumbnail_name(image_name)
    )
    document = json.dumps(sidecar_document(parameters, studio), ensure_ascii=False, indent=2)
    written: list[str] = []
    try:
        outputs.write_bytes(stored.thumbnail, _thumbnail(image, thumbnail_px))
        written.append(stored.thumbnail)
        outputs.write_bytes(stored.sidecar, (document + "\n").encode())
        written.append(stored.sidecar)
        with outputs.atomic_path(stored.image) as tmp:
            save_image(image, tmp, parameters, embed=embed, sidecar=False, quality=quality)
    except BaseException:
        for name in written:
            outputs.delete(name)
        raise
    return stored


def remove_output(outputs: FileStorage, stored: StoredOutput) -> None:
    for name in (stored.image, stored.sidecar, stored.thumbnail):
        outputs.delete(name)


def _thumbnail(image: Image.Image, longest_side: int) -> bytes:
    small = image.copy()
    small.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format="WEBP", quality=80, method=4)
    return buffer.getvalue()
