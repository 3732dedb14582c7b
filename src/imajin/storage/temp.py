"""The atomic writers' temporary files: their names, the mode of what they publish,
and the start-up sweep of the ones a crash left behind."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

logger = logging.getLogger(__name__)

SERVED_FILE_MODE = 0o644
"""Every file imajin publishes (masters, derivatives, outputs, sidecars, thumbnails):
a web server or CDN running as another user must be able to read it."""

TEMP_PREFIX = ".tmp-"
"""``LocalFileStorage.atomic_path`` names its temporary files ``.tmp-<random><suffix>``."""

TEMP_SUFFIX = ".tmp"
"""``temp_sibling`` names its temporary files ``.<name>.tmp``."""

LEFTOVER_GRACE_S = 60.0
"""A temporary file younger than this may belong to a writer in another process
(a worker sharing the data dir), so the sweep leaves it alone."""


def temp_sibling(path: Path) -> Path:
    """The temporary name a writer uses before renaming into ``path``."""
    return path.with_name(f".{path.name}{TEMP_SUFFIX}")


def publish(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the served mode and rename it into ``target`` (atomic on one file system)."""
    tmp.chmod(SERVED_FILE_MODE)
    tmp.replace(target)


def is_leftover(path: Path) -> bool:
    """Whether ``path`` has one of the atomic writers' own temporary names."""
    name = path.name
    return name.startswith(TEMP_PREFIX) or (
        name.startswith(".") and name.endswith(TEMP_SUFFIX) and len(name) > len(TEMP_SUFFIX) + 1
    )


def remove_leftovers(
    root: Path, *, grace_s: float = LEFTOVER_GRACE_S, now: float | None = None
) -> list[Path]:
    """Delete the writers' temporary files under ``root`` older than ``grace_s``.

    Only regular files with the writers' own names are touched (never folders,
    never links); returns what was removed.
    """
    if not root.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - grace_s
    removed: list[Path] = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if not is_leftover(path) or path.is_symlink():
                continue
            try:
                if path.stat().st_mtime <= cutoff:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:
                continue  # its writer finished or cleaned up meanwhile
    if removed:
        logger.info("removed %d temporary files left by a crash under %s", len(removed), root)
    return removed
