"""Local file storage: atomic writes, confinement, health."""

from __future__ import annotations

from pathlib import Path

import pytest

from imajin.storage.local import LocalFileStorage
from imajin.storage.paths import UnsafePath


def test_write_and_read_back_nested(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    path = storage.write_bytes("set_1/item.png", b"data")
    assert path == tmp_path.resolve() / "set_1" / "item.png"
    assert storage.read_bytes("set_1/item.png") == b"data"
    assert storage.exists("set_1/item.png")


def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    storage.write_bytes("a/old.bin", b"old")
    with pytest.raises(RuntimeError), storage.atomic_path("a/old.bin") as tmp:
        tmp.write_bytes(b"half-written")
        raise RuntimeError("encoder crashed")
    with pytest.raises(RuntimeError), storage.atomic_path("a/new.bin") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder crashed")
    assert storage.read_bytes("a/old.bin") == b"old"
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "old.bin"
    ]  # no temp file, no new.bin


def test_overwrite_replaces_whole_file(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    storage.write_bytes("x.bin", b"1" * 1000)
    storage.write_bytes("x.bin", b"2")
    assert storage.read_bytes("x.bin") == b"2"


def test_every_operation_is_confined(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "root")
    for operation in (storage.read_bytes, storage.exists, storage.delete, storage.delete_tree):
        with pytest.raises(UnsafePath):
            operation("../escape")
    with pytest.raises(UnsafePath):
        storage.write_bytes("../escape", b"x")
    assert not (tmp_path / "escape").exists()


def test_delete_and_delete_tree(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    storage.write_bytes("v/masters/a.webp", b"a")
    storage.write_bytes("v/derivatives/b.webp", b"b")
    storage.delete("v/masters/a.webp")
    storage.delete("v/masters/a.webp")  # missing is fine
    assert not storage.exists("v/masters/a.webp")
    storage.delete_tree("v")
    assert not (tmp_path / "v").exists()


def test_health_reports_path_existence_and_writability(tmp_path: Path) -> None:
    missing = LocalFileStorage(tmp_path / "missing").health()
    assert (missing.exists, missing.writable) == (False, False)
    present = LocalFileStorage(tmp_path).health()
    assert present.model_dump(by_alias=True) == {
        "basePath": str(tmp_path),
        "exists": True,
        "writable": True,
    }


def test_local_storage_is_a_file_storage(tmp_path: Path) -> None:
    from imajin.storage import FileStorage  # noqa: PLC0415

    storage = LocalFileStorage(tmp_path)
    assert isinstance(storage, FileStorage)
    assert not isinstance(object(), FileStorage)
