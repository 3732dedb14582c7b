"""What a request that came over HTTP may name on the server's disk (SPEC §2.1).

Over HTTP a model is a style or an id, and a LoRA is an id or a file name inside
the configured LoRA folders; the CLI and manifests may name any path. Whatever a
request is refused, it is refused with the error it would get for a name that
does not exist, so an API key never turns into a probe of the server's files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from imajin.engine.request import LoraRequest

SHOWN_CHARS = 80
LORA_SUFFIX = ".safetensors"
# Longer names cannot be one file name on common filesystems (255 bytes).
_MAX_NAME_BYTES = 255


def shown(text: str) -> str:
    """``text`` quoted for an error message, cut to ``SHOWN_CHARS`` (a request may send a lot)."""
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return repr(text[:SHOWN_CHARS]) + f"… ({len(text)} characters)"


def _plain_relative(name: str) -> PurePosixPath | None:
    """``name`` as a relative path with no way out of its folder, or None.

    Refused: absolute paths, ``~``, backslashes, NUL, empty, ``.`` and ``..``
    parts. Symlinks are checked afterwards, on the resolved file.
    """
    if not name or "\x00" in name or "\\" in name or name.startswith(("/", "~")):
        return None
    path = PurePosixPath(name)
    if any(part in ("", ".", "..") for part in name.split("/")):
        return None
    if any(len(part.encode()) > _MAX_NAME_BYTES for part in path.parts):
        return None
    return path if path.suffix == LORA_SUFFIX else None


def confined_lora(lora: LoraRequest, *, lora_dirs: Sequence[Path]) -> Path | None:
    """The file a request's LoRA names inside one of ``lora_dirs``, or None.

    An id ``x`` means ``x.safetensors``; a ``path`` must be a file name (or a
    relative path below a LoRA folder). The resolved file, symlinks followed,
    must still lie inside the folder it was found in.

    Returns:
        The resolved file, or None alike for a name that is missing, malformed or
        that points outside the LoRA folders.
    """
    name = lora.path if lora.path is not None else f"{lora.id}{LORA_SUFFIX}"
    relative = _plain_relative(name)
    if relative is None:
        return None
    for folder in lora_dirs:
        try:
            root = folder.resolve()
            found = (root / relative).resolve(strict=True)
        except (OSError, RuntimeError):  # missing, a symlink loop, a name the OS refuses
            continue
        if found.is_relative_to(root) and found.is_file() and found.suffix == LORA_SUFFIX:
            return found
    return None
