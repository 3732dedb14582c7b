"""Writing a family to storage: SPEC §3.3 paths, content hashes, and all-or-none."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from imajin.errors import InvalidInput
from imajin.imaging import (
    ImagingSettings,
    RenderedImage,
    Size,
    delete_family,
    family_paths,
    render_family,
    write_family,
)
from imajin.storage import LocalFileStorage

Pixels = Callable[[Size], np.ndarray]
SETTINGS = ImagingSettings(webp_effort=0, threads=1)


class FailingStorage(LocalFileStorage):
    """Local storage whose write of one name fails, before or after its data is written."""

    def __init__(self, root: Path, *, fail_on: str, when: str) -> None:
        super().__init__(root)
        self.fail_on = fail_on
        self.when = when

    @contextmanager
    def atomic_path(self, name: str) -> Iterator[Path]:
        if name == self.fail_on and self.when == "write":
            raise OSError("disk full")
        with super().atomic_path(name) as tmp:
            yield tmp
            # Raising here, as the block closes, is a failed rename.
            if name == self.fail_on and self.when == "rename":
                raise OSError("rename failed")


@pytest.fixture
def og_images(master_pixels: Pixels) -> list[RenderedImage]:
    return render_family(master_pixels(Size(1344, 768)), "og", settings=SETTINGS)


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_family_is_written_at_spec_paths_with_hashes(
    tmp_path: Path, og_images: list[RenderedImage]
) -> None:
    storage = LocalFileStorage(tmp_path)
    stored = write_family(storage, variation="launch-1", images=og_images)
    assert [s.path for s in stored] == family_paths("launch-1", "og")
    assert stored[0].path == "launch-1/masters/og-1200x675.webp"
    assert stored[0].is_master
    assert "launch-1/derivatives/twitter-small-600x314.webp" in [s.path for s in stored]
    for item in stored:
        data = (tmp_path / item.path).read_bytes()
        assert item.size_bytes == len(data)
        assert item.sha256 == hashlib.sha256(data).hexdigest()
        assert item.family == "og"
    by_name = {s.name: s for s in stored if not s.is_master}
    assert (by_name["facebook-og"].width, by_name["facebook-og"].height) == (1200, 630)
    assert files_under(tmp_path) == sorted(s.path for s in stored)


@pytest.mark.parametrize("when", ["write", "rename"])
@pytest.mark.parametrize("index", [0, 2, -1])
def test_a_failure_mid_family_leaves_no_file_of_the_family(
    tmp_path: Path, og_images: list[RenderedImage], index: int, when: str
) -> None:
    failing = family_paths("v1", "og")[index]
    storage = FailingStorage(tmp_path, fail_on=failing, when=when)
    with pytest.raises(OSError, match=r"disk full|rename failed"):
        write_family(storage, variation="v1", images=og_images)
    assert files_under(tmp_path) == []  # no family file and no temporary file


def test_a_failed_rewrite_keeps_the_previous_complete_family(
    tmp_path: Path, og_images: list[RenderedImage], master_pixels: Pixels
) -> None:
    write_family(LocalFileStorage(tmp_path), variation="v1", images=og_images)
    before = {name: (tmp_path / name).read_bytes() for name in files_under(tmp_path)}
    other = render_family(master_pixels(Size(640, 640)), "og", settings=SETTINGS)
    failing = family_paths("v1", "og")[-1]
    with pytest.raises(OSError):
        write_family(
            FailingStorage(tmp_path, fail_on=failing, when="write"), variation="v1", images=other
        )
    assert {name: (tmp_path / name).read_bytes() for name in files_under(tmp_path)} == before


def test_other_families_are_untouched_by_a_failure(
    tmp_path: Path, og_images: list[RenderedImage], master_pixels: Pixels
) -> None:
    sidebar = render_family(master_pixels(Size(300, 600)), "sidebar", settings=SETTINGS)
    write_family(LocalFileStorage(tmp_path), variation="v1", images=sidebar)
    failing = family_paths("v1", "og")[1]
    with pytest.raises(OSError):
        write_family(
            FailingStorage(tmp_path, fail_on=failing, when="rename"),
            variation="v1",
            images=og_images,
        )
    assert files_under(tmp_path) == sorted(family_paths("v1", "sidebar"))


def test_delete_family_removes_every_file(tmp_path: Path, og_images: list[RenderedImage]) -> None:
    storage = LocalFileStorage(tmp_path)
    write_family(storage, variation="v1", images=og_images)
    delete_family(storage, variation="v1", family_name="og")
    delete_family(storage, variation="v1", family_name="og")  # missing files are fine
    assert files_under(tmp_path) == []


def test_mixed_families_and_bad_names_are_refused(
    tmp_path: Path, og_images: list[RenderedImage], master_pixels: Pixels
) -> None:
    storage = LocalFileStorage(tmp_path)
    sidebar = render_family(master_pixels(Size(300, 600)), "sidebar", settings=SETTINGS)
    with pytest.raises(InvalidInput) as caught:
        write_family(storage, variation="v1", images=[*og_images, *sidebar])
    assert caught.value.field == "images"
    with pytest.raises(InvalidInput):
        write_family(storage, variation="v1", images=[])
    with pytest.raises(InvalidInput) as caught:
        write_family(storage, variation="../escape", images=og_images)
    assert caught.value.field == "variation"
    assert files_under(tmp_path) == []
