"""Where sets come from: the shipped examples, then the operator's ``<data_dir>/sets``.

The folders are read on every lookup (a handful of small files), so a set an
operator adds or fixes is live at once. A broken set does not hide the good
ones: it is left out of listings and its error is what looking it up raises.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from imajin.studio.errors import SetInvalid, StudioNotFound
from imajin.studio.sets import CardSet, load_set, read_set_file

logger = logging.getLogger(__name__)


def shipped_sets_dir() -> Path:
    """The folder of the example sets that ship with imajin."""
    return Path(str(files("imajin.studio").joinpath("sets")))


@dataclass
class Loaded:
    """Every set found, by name, and the problems of those that failed to load."""

    sets: dict[str, CardSet] = field(default_factory=dict)
    problems: dict[str, SetInvalid] = field(default_factory=dict)


class SetCatalog:
    """Sets by name from ``directories``; a later folder's set replaces an earlier one's.

    Args:
        directories: Folders of ``*.yaml`` / ``*.yml`` set files, in override order.
        lora_dirs: Folders searched for the LoRAs sets name.
        max_items: Most rows one set may have.
    """

    def __init__(
        self, *, directories: Sequence[Path], lora_dirs: Sequence[Path], max_items: int
    ) -> None:
        self.directories = list(directories)
        self._lora_dirs = list(lora_dirs)
        self._max_items = max_items

    def load(self) -> Loaded:
        loaded = Loaded()
        for directory in self.directories:
            in_this_folder: set[str] = set()
            for path in _set_files(directory):
                for raw in read_set_file(path):
                    self._add(loaded, raw, path, in_this_folder)
        return loaded

    def _add(
        self, loaded: Loaded, raw: dict[str, object] | SetInvalid, path: Path, seen: set[str]
    ) -> None:
        if isinstance(raw, SetInvalid):
            loaded.problems[raw.set_name] = raw
            return
        name = str(raw.get("name") or path.name)
        if name in seen:
            problem = SetInvalid(name, f"a second set of this name in {path}", field="name")
            loaded.problems[name] = problem
            loaded.sets.pop(name, None)
            return
        seen.add(name)
        try:
            loaded.sets[name] = load_set(
                raw, source=path, lora_dirs=self._lora_dirs, max_items=self._max_items
            )
            loaded.problems.pop(name, None)
        except SetInvalid as exc:
            logger.warning("set %s (%s) is not usable: %s", name, path, exc.message)
            loaded.problems[name] = exc
            loaded.sets.pop(name, None)

    def list(self) -> list[CardSet]:
        """Every usable set, by name."""
        return sorted(self.load().sets.values(), key=lambda card_set: card_set.name)

    def get(self, name: str) -> CardSet:
        """The set called ``name``.

        Raises:
            SetInvalid: The set exists but does not load (the error names row and field).
            NotFound: No set has that name.
        """
        loaded = self.load()
        if name in loaded.sets:
            return loaded.sets[name]
        if name in loaded.problems:
            raise loaded.problems[name]
        known = ", ".join(sorted(loaded.sets)) or "none"
        raise StudioNotFound(f"No set named {name!r}; sets: {known}.", field="set_name")


def _set_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        path
        for path in directory.iterdir()
        if path.suffix in (".yaml", ".yml") and path.is_file() and not path.name.startswith(".")
    )
