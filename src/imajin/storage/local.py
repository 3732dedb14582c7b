"""File storage in a local directory, with atomic writes."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imajin.contracts.common import StorageHealth
from imajin.storage.paths import confine_path
from imajin.storage.temp import TEMP_PREFIX, publish

__all__ = ["LocalFileStorage", "StorageHealth"]


class LocalFileStorage:
    """Files under one root directory; every name goes through :func:`confine_path`.

    Writes go to a temporary file in the target's directory and are renamed
    into place, so readers see either the old file or the complete new one,
    and a failed write leaves nothing behind.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str, *, field: str = "path") -> Path:
        """The confined absolute path for ``name`` (which may not exist yet)."""
        return confine_path(self.root, name, field=field)

    @contextmanager
    def atomic_path(self, name: str) -> Iterator[Path]:
        """Yield a temporary path to write; it becomes ``name`` only if the block succeeds."""
        target = self.path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=target.suffix, dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            yield tmp
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
            publish(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Write ``data`` to ``name`` atomically; returns the final path."""
        with self.atomic_path(name) as tmp:
            tmp.write_bytes(data)
        return self.path(name)

    def read_bytes(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def delete(self, name: str) -> None:
        """Remove a file; a missing file is not an error."""
        self.path(name).unlink(missing_ok=True)

    def delete_tree(self, name: str) -> None:
        """Remove a directory and everything in it; a missing one is not an error."""
        target = self.path(name)
        if target.is_dir():
            shutil.rmtree(target)

    def health(self) -> StorageHealth:
        exists = self.root.is_dir()
        return StorageHealth(
            base_path=str(self.root),
            exists=exists,
            writable=exists and os.access(self.root, os.W_OK | os.X_OK),
        )
