"""Named plug-in classes (LLM backends, face detectors): one registry type for all of them.

Built-ins register exactly as third-party classes do, at import time of their package's
registry module; registering imports nothing heavy (classes load libraries on first use).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class PluginRegistry(Generic[T]):
    """Names to subclasses of ``base``.

    Args:
        base: What every registered class must subclass.
        noun: What the classes are called in messages ("LLM backend", "face detector").
        unknown: The error raised for a name nothing is registered under.
        fix: The last sentence of that error: how the operator fixes it.
    """

    def __init__(
        self,
        base: type,  # usually abstract: mypy refuses an abstract class as type[T]
        *,
        noun: str,
        unknown: Callable[[str], Exception],
        fix: str,
    ) -> None:
        self._base = base
        self._noun = noun
        self._unknown = unknown
        self._fix = fix
        self._classes: dict[str, type[T]] = {}

    def register(self, name: str, cls: type[T], *, replace: bool = False) -> None:
        """Make ``cls`` available under ``name`` (lower-case letters, digits, ``-``, ``_``).

        Raises:
            ValueError: The name is malformed, ``cls`` is no subclass of the base, or the
                name is taken by another class and ``replace`` is false.
        """
        if not _NAME.fullmatch(name):
            raise ValueError(
                f"{self._noun.capitalize()} name {name!r} is malformed: use lower-case "
                "letters, digits, '-' and '_'."
            )
        if not (isinstance(cls, type) and issubclass(cls, self._base)):
            raise ValueError(
                f"{cls!r} is not a {self._base.__name__} subclass, so it cannot be registered."
            )
        taken = self._classes.get(name)
        if taken is not None and taken is not cls and not replace:
            raise ValueError(
                f"{self._noun.capitalize()} {name!r} is already registered "
                f"({taken.__qualname__}); pass replace=True to override it."
            )
        self._classes[name] = cls

    def get(self, name: str) -> type[T]:
        """The class registered as ``name``.

        Raises:
            Exception: The registry's ``unknown`` error: nothing is registered under
                ``name``; the message lists what is.
        """
        try:
            return self._classes[name]
        except KeyError:
            raise self._unknown(
                f"No {self._noun} {name!r} — registered: {', '.join(self.names())}. {self._fix}"
            ) from None

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self._classes)
