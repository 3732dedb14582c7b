"""SHA-256 of model and LoRA files, remembered so a large file is read once.

Hashes are kept by (path, size, mtime) in memory and, when a cache file is
given, on disk. ``short_hash`` is the 10-character form A1111-style tools show
("AutoV2").
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)
_CHUNK = 1 << 20


def short_hash(sha256: str) -> str:
    """The first 10 hex digits, as A1111 shows model and LoRA hashes."""
    return sha256[:10]


class FileHasher:
    """Hashes files, caching results by path, size and modification time."""

    def __init__(self, *, cache_file: Path | None = None) -> None:
        self._cache_file = cache_file
        self._lock = threading.Lock()
        self._known: dict[str, str] = {}
        if cache_file is not None and cache_file.is_file():
            try:
                self._known = dict(json.loads(cache_file.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                logger.warning("ignoring unreadable hash cache %s", cache_file)

    def file(self, path: Path) -> str:
        """SHA-256 (hex) of one file."""
        stat = path.stat()
        key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        with self._lock:
            if key in self._known:
                return self._known[key]
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        value = digest.hexdigest()
        with self._lock:
            self._known[key] = value
            self._save()
        return value

    def files(self, paths: Iterable[Path], *, root: Path) -> str:
        """One SHA-256 over several files: the hash of their relative names and hashes."""
        digest = hashlib.sha256()
        for path in sorted(paths):
            digest.update(f"{path.relative_to(root).as_posix()}:{self.file(path)}\n".encode())
        return digest.hexdigest()

    def _save(self) -> None:
        if self._cache_file is None:
            return
        try:
            self._cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._known, indent=0), encoding="utf-8")
            tmp.replace(self._cache_file)
        except OSError:
            logger.warning("could not write hash cache %s", self._cache_file)
