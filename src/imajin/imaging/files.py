"""Writing a family's rendered files to storage, all or none (SPEC §3.3).

Files live at ``<variation>/masters/<family>-<w>x<h>.webp`` and
``<variation>/derivatives/<derivative>-<w>x<h>.webp`` under the storage root.
A family is staged first (every file written to a temporary file) and only
then renamed into place, so a failed write leaves the previous files intact;
if a rename itself fails, every file of the family is removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from imajin.errors import InvalidInput
from imajin.imaging.render import RenderedImage
from imajin.imaging.sizes import family
from imajin.storage import FileStorage

_VARIATION_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class StoredImage:
    """One written file, as an ``image_derivatives`` row needs it."""

    name: str
    family: str
    is_master: bool
    path: str
    width: int
    height: int
    size_bytes: int
    sha256: str


def image_path(variation: str, image: RenderedImage) -> str:
    """The storage name of ``image`` in ``variation`` (relative to the images root)."""
    folder = "masters" if image.is_master else "derivatives"
    return f"{_checked_variation(variation)}/{folder}/{image.filename}"


def family_paths(variation: str, family_name: str) -> list[str]:
    """The storage names of every file family ``family_name`` has in ``variation``.

    Raises:
        NotFound: ``family_name`` is not a family.
    """
    spec = family(family_name)
    variation = _checked_variation(variation)
    return [
        f"{variation}/masters/{spec.name}-{spec.master}.webp",
        *(f"{variation}/derivatives/{d.name}-{d.size}.webp" for d in spec.derivatives),
    ]


def write_family(
    storage: FileStorage, *, variation: str, images: Sequence[RenderedImage]
) -> list[StoredImage]:
    """Write one family's images atomically, all or none; return what was written.

    Raises:
        InvalidInput: ``images`` is empty or mixes families.
        Exception: whatever a failed write raised, after the family's files are removed
            (when renaming had begun) or left as they were (when it had not).
    """
    families = {image.family for image in images}
    if len(families) != 1:
        raise InvalidInput(
            f"write_family takes the images of exactly one family; got {sorted(families)}.",
            field="images",
        )
    paths = [image_path(variation, image) for image in images]
    staged = False
    try:
        with ExitStack() as stack:
            # Each atomic_path renames its temporary file only when the stack closes
            # without an error, so a failed write renames nothing.
            for path, image in zip(paths, images, strict=True):
                stack.enter_context(storage.atomic_path(path)).write_bytes(image.data)
            staged = True
    except BaseException:
        if staged:
            # A rename failed part-way: some files are new, some old. Remove them all.
            delete_family(storage, variation=variation, family_name=families.pop())
        raise
    return [_stored(path, image) for path, image in zip(paths, images, strict=True)]


def delete_family(storage: FileStorage, *, variation: str, family_name: str) -> None:
    """Remove every file of family ``family_name`` in ``variation``; missing ones are fine."""
    for path in family_paths(variation, family_name):
        storage.delete(path)


def _stored(path: str, image: RenderedImage) -> StoredImage:
    return StoredImage(
        name=image.name,
        family=image.family,
        is_master=image.is_master,
        path=path,
        width=image.size.width,
        height=image.size.height,
        size_bytes=len(image.data),
        sha256=image.sha256,
    )


def _checked_variation(variation: str) -> str:
    if not _VARIATION_NAME.match(variation):
        raise InvalidInput(
            f"A variation name is a slug of letters, digits, '_' and '-'; got {variation!r}.",
            field="variation",
        )
    return variation
