"""Module attributes imported on first use, so importing a package stays cheap (no torch)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from ``where[name]`` when first read.

    Usage: ``__getattr__ = lazy_attributes(__name__, {"Engine": "imajin.engine.engine"})``.
    """

    def __getattr__(name: str) -> Any:  # noqa: N807  # the module hook Python calls
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(where[name]), name)

    return __getattr__
