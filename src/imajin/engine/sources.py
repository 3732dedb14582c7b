"""Where a model's weights come from: a hub repo, a hub file, a local folder or file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SourceKind = Literal["repo", "hub_file", "folder", "file"]

_REPO = re.compile(r"^[\w.-]+/[\w.-]+$")
_HUB_FILE = re.compile(r"^(?P<repo>[\w.-]+/[\w.-]+)/(?P<file>[\w./-]+\.safetensors)$")
_HUB_URL = re.compile(r"^https://(huggingface\.co|hf\.co)/")
_PATH_PREFIXES = ("/", "./", "../", "~")
WEIGHT_SUFFIXES = (".safetensors",)


@dataclass(frozen=True)
class ModelSource:
    """A parsed ``source`` string.

    Attributes:
        kind: ``repo`` (diffusers repo on the hub), ``hub_file`` (one checkpoint
            file on the hub), ``folder`` (local diffusers folder) or ``file``
            (local single-file checkpoint).
        location: Repo id, hub URL, or absolute local path.
    """

    kind: SourceKind
    location: str

    @property
    def is_local(self) -> bool:
        """True for local folders and files."""
        return self.kind in ("folder", "file")


def is_explicit_path(text: str) -> bool:
    """True for text that can only be a filesystem path (``/x``, ``./x``, ``../x``, ``~/x``)."""
    return text.startswith(_PATH_PREFIXES) or "\\" in text


def path_exists(path: Path) -> bool:
    """``path.exists()``, false for a name the OS refuses to look up (too long, NUL) or a
    ``~user`` whose home is unknown.

    ``Path.exists`` and ``expanduser`` raise for those; a ``model`` must not become a 500.
    """
    try:
        return path.expanduser().exists()
    except (OSError, ValueError, RuntimeError):
        return False


def looks_like_path(text: str) -> bool:
    """True when a request's ``model`` is meant as a path: explicit, or a weights file name."""
    return is_explicit_path(text) or text.endswith(WEIGHT_SUFFIXES)


def local_source(path: Path) -> ModelSource:
    """A source for a local path (a file when it has a weights suffix)."""
    path = path.expanduser().resolve()
    if path.suffix in WEIGHT_SUFFIXES or path.is_file():
        return ModelSource("file", str(path))
    return ModelSource("folder", str(path))


def parse_source(source: str, *, base_dir: Path | None = None) -> ModelSource:
    """Classify a manifest ``source`` string.

    Args:
        source: Repo id, ``owner/repo/file.safetensors``, hub URL, or local path.
        base_dir: Folder that relative paths (``./x``) are relative to (the manifest's).

    Raises:
        ValueError: The string is none of the accepted forms; the message lists them.
    """
    if _HUB_URL.match(source):
        return ModelSource("hub_file", source)
    if not is_explicit_path(source):
        if match := _HUB_FILE.match(source):
            url = f"https://huggingface.co/{match['repo']}/blob/main/{match['file']}"
            return ModelSource("hub_file", url)
        if _REPO.match(source):
            return ModelSource("repo", source)
    if is_explicit_path(source) or source.endswith(WEIGHT_SUFFIXES):
        path = Path(source).expanduser()
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        if path.suffix and path.suffix not in WEIGHT_SUFFIXES and not path.is_dir():
            raise ValueError(
                f"{source!r}: only .safetensors checkpoints are loaded (pickled .ckpt/.pt files "
                "can run code); convert it to .safetensors first"
            )
        return local_source(path)
    raise ValueError(
        f"{source!r} is not a model source; use a hub repo id (owner/name), a hub file "
        "(owner/name/file.safetensors), or a local path starting with /, ./ or ../"
    )
