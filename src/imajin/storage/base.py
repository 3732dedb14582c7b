"""The ``FileStorage`` protocol: what every service and handler may do with files.

:class:`~imajin.storage.local.LocalFileStorage` implements it; object storage can
plug in later behind the same methods. ``path`` and ``atomic_path`` hand out a
local path (pyvips and diffusers write files); a remote backend would stage there.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from imajin.storage.local import StorageHealth


@runtime_checkable
class FileStorage(Protocol):
    """Files under one root; every name is confined to it (escapes raise ``UnsafePath``)."""

    root: Path
    """The local folder names resolve under (a remote backend's staging folder)."""

    def path(self, name: str, *, field: str = "path") -> Path:
        """The confined local path for ``name`` (which may not exist yet)."""
        ...

    def atomic_path(self, name: str) -> AbstractContextManager[Path]:
        """A temporary path to write; it becomes ``name`` only if the block succeeds."""
        ...

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Write ``data`` to ``name`` atomically."""
        ...

    def read_bytes(self, name: str) -> bytes: ...

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> None:
        """Remove a file; a missing file is not an error."""
        ...

    def delete_tree(self, name: str) -> None:
        """Remove a folder and everything in it; a missing one is not an error."""
        ...

    def health(self) -> StorageHealth: ...
