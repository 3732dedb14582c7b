"""Build a value once per process, safely under threads.

``functools.cache`` keeps its own dictionary consistent, but it does not stop
two threads that miss at the same moment from both running the function: a
burst of first requests compiled the policy regexes dozens of times at once
and starved the thread pool. :class:`Once` runs its builder at most once;
the other callers wait for that one result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Once"]

T = TypeVar("T")


class Once(Generic[T]):
    """A zero-argument function whose result is built once (use as a decorator)."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._value: tuple[T] | None = None
        self.__doc__ = build.__doc__

    def __call__(self) -> T:
        # Read once: a reset() in another thread cannot turn the check stale.
        if (value := self._value) is not None:
            return value[0]
        with self._lock:
            if self._value is None:
                self._value = (self._build(),)
            return self._value[0]

    def reset(self) -> None:
        """Forget the value, so the next call builds it again (tests)."""
        with self._lock:
            self._value = None
