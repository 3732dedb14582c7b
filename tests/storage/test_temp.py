"""Served files get one readable mode; crash leftovers are swept at start-up, nothing else."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from imajin.config.settings import Settings
from imajin.engine.metadata import save_image, sidecar_path
from imajin.engine.parameters import GenerationParameters
from imajin.storage.local import LocalFileStorage
from imajin.storage.temp import SERVED_FILE_MODE, is_leftover, remove_leftovers
from imajin.wiring import build_platform

OLD = 3600.0


@pytest.fixture
def strict_umask() -> Iterator[None]:
    # A deployment with umask 077 must still publish files a web server can read.
    previous = os.umask(0o077)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _params() -> GenerationParameters:
    return GenerationParameters(
        prompt="a paper boat",
        negative_prompt="blurry",
        model="tiny",
        seed=1,
        steps=2,
        guidance=5.0,
        scheduler="euler",
        width=8,
        height=8,
    )


@pytest.mark.usefixtures("strict_umask")
def test_atomic_writes_publish_with_the_served_mode(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    written = storage.write_bytes("v/derivatives/og-1200x675.webp", b"RIFF")
    assert _mode(written) == SERVED_FILE_MODE


@pytest.mark.usefixtures("strict_umask")
def test_saved_images_and_sidecars_get_the_served_mode(tmp_path: Path) -> None:
    image = Image.new("RGB", (8, 8), "white")
    path = save_image(image, tmp_path / "out" / "a.png", _params(), sidecar=True)
    assert _mode(path) == SERVED_FILE_MODE
    assert _mode(sidecar_path(path)) == SERVED_FILE_MODE
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.json", "a.png"]


def test_a_failed_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    class Broken(Image.Image):
        def save(self, *_args: object, **_kwargs: object) -> None:
            Path(str(_args[0])).write_bytes(b"half")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_image(Broken(), tmp_path / "b.png", _params(), embed=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "leftover"),
    [
        (".tmp-k2j3h4.png", True),
        (".tmp-abc.webp", True),
        ("..tmp-k2j3h4.png.tmp", True),
        (".a.png.tmp", True),
        ("a.png", False),
        (".tmp", False),
        (".hidden", False),
        ("notes.tmp", False),
        ("tmp-a.png", False),
    ],
)
def test_leftover_names_are_only_the_writers_own(name: str, leftover: bool) -> None:
    assert is_leftover(Path(name)) is leftover


def test_sweep_removes_old_leftovers_only(tmp_path: Path) -> None:
    folder = tmp_path / "set_1" / "thumbs"
    folder.mkdir(parents=True)
    old = [folder / ".tmp-x.webp", tmp_path / "set_1" / "..tmp-y.png.tmp"]
    kept = [tmp_path / "set_1" / "a.png", folder / ".hidden", tmp_path / "set_1" / ".tmp-young.png"]
    for path in [*old, *kept]:
        path.write_bytes(b"x")
    for path in [*old, kept[0], kept[1]]:
        os.utime(path, (path.stat().st_atime - OLD, path.stat().st_mtime - OLD))
    scratch = tmp_path / ".tmp-step-0000010"  # a folder with a temporary name is not a file
    scratch.mkdir()
    link = tmp_path / ".tmp-link.png"
    link.symlink_to(kept[0])

    removed = remove_leftovers(tmp_path)

    assert sorted(removed) == sorted(old)
    assert all(p.exists() for p in kept) and scratch.is_dir() and link.is_symlink()


def test_platform_start_sweeps_the_served_folders(settings: Settings) -> None:
    images, outputs = settings.layout.images, settings.layout.outputs
    leftovers = [images / "fox" / "masters" / ".tmp-1.webp", outputs / "s_1" / "..tmp-2.png.tmp"]
    for path in leftovers:
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
        os.utime(path, (path.stat().st_atime - OLD, path.stat().st_mtime - OLD))
    platform = build_platform(settings)
    try:
        platform.start()
        assert not any(p.exists() for p in leftovers)
    finally:
        platform.stop()
        platform.close()
