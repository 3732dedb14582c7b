"""Path confinement: the one function every route uses for a path or name from a request.

A request may name files (``/api/outputs/{path}``, ``/api/images/{name}/{derivative}``);
:func:`confine_path` turns such a name into a path that is guaranteed to stay
inside a root. It is deliberately strict — names imajin writes are plain ASCII
slugs — and every rejection names the rule that was broken.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from imajin.errors import InvalidInput

MAX_SEGMENT = 255
MAX_DEPTH = 32

_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
# Characters that render as, or normalise to, a dot or a slash. NFKC catches most
# (fullwidth forms, one-dot leader); these are the ones it leaves alone.
_LOOKALIKES = frozenset("\u2215\u2044\u29f8\u2571\u29f5\u2216\u29f9\u3002\uff61\u2027\u00b7")


class UnsafePath(InvalidInput):
    """A path from a request that could leave its root, or uses forbidden characters."""

    code = "unsafe_path"


def confine_path(root: Path, untrusted: str, *, field: str = "path") -> Path:
    """Resolve ``untrusted`` (a relative, ``/``-separated name) inside ``root``.

    Rejects: empty names, control characters and NUL, percent-encoded (or
    double-encoded) characters, backslashes, absolute and drive paths, Unicode
    look-alikes of ``.`` and ``/``, any other non-ASCII character, ``.``/``..``
    and hidden segments, empty segments, and names whose resolved path (after
    following symlinks) is outside ``root``.

    Raises:
        UnsafePath: naming ``field`` and the rule that was broken.
    """
    _check_characters(untrusted, field=field)
    segments = untrusted.split("/")
    if len(segments) > MAX_DEPTH:
        raise UnsafePath(f"`{field}` is nested deeper than {MAX_DEPTH} levels.", field=field)
    for segment in segments:
        _check_segment(segment, field=field)

    base = root.resolve()
    candidate = base.joinpath(*segments)
    # resolve() follows symlinks, so a link inside the root that points out is caught here.
    if not candidate.resolve().is_relative_to(base):
        raise UnsafePath(f"`{field}` leads outside its root (via a symlink).", field=field)
    return candidate


def _check_characters(value: str, *, field: str) -> None:
    if not value:
        raise UnsafePath(f"`{field}` must not be empty.", field=field)
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise UnsafePath(f"`{field}` must not contain control characters or NUL.", field=field)
    if _PERCENT_ESCAPE.search(value):
        raise UnsafePath(
            f"`{field}` must not contain percent-encoded characters; send the plain name.",
            field=field,
        )
    if "\\" in value:
        raise UnsafePath(f"`{field}` must use '/' as separator, not backslashes.", field=field)
    if value.startswith(("/", "~")) or _WINDOWS_DRIVE.match(value):
        raise UnsafePath(f"`{field}` must be a relative path, not an absolute one.", field=field)
    for char in value:
        if char.isascii():
            continue
        normalised = unicodedata.normalize("NFKC", char)
        if char in _LOOKALIKES or any(c in "./\\" for c in normalised):
            raise UnsafePath(
                f"`{field}` contains {char!r} (U+{ord(char):04X}), a look-alike of '.' or '/'.",
                field=field,
            )
        raise UnsafePath(
            f"`{field}` may only use ASCII letters, digits, '.', '_', '-' and '/'; "
            f"found {char!r} (U+{ord(char):04X}).",
            field=field,
        )


def _check_segment(segment: str, *, field: str) -> None:
    if segment == "":
        raise UnsafePath(f"`{field}` must not contain empty segments ('//').", field=field)
    if segment in (".", ".."):
        raise UnsafePath(f"`{field}` must not contain '.' or '..' segments.", field=field)
    if segment.startswith("."):
        raise UnsafePath(f"`{field}` must not name hidden files ({segment!r}).", field=field)
    if len(segment) > MAX_SEGMENT:
        raise UnsafePath(f"`{field}` has a segment over {MAX_SEGMENT} characters.", field=field)
    if not _SAFE_SEGMENT.match(segment):
        raise UnsafePath(
            f"`{field}` segment {segment!r} may only use letters, digits, '.', '_' and '-'.",
            field=field,
        )
