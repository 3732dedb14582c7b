"""Module attributes imported on first use, so importing a package stays cheap (no torch)."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

HEAVY_IMPORTS = threading.RLock()
"""Held while torch/diffusers-backed modules are first imported. Two threads importing
them at once (the start-up warm-up and a first request or test) can each hold a module
lock the other needs; Python then hands one a half-initialised module (seen as
``module 'diffusers' has no attribute 'UNet2DConditionModel'``)."""


def import_heavy(module: str) -> ModuleType:
    """``importlib.import_module`` under :data:`HEAVY_IMPORTS`."""
    with HEAVY_IMPORTS:
        return importlib.import_module(module)


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from ``where[name]`` when first read.

    Usage: ``__getattr__ = lazy_attributes(__name__, {"Engine": "imajin.engine.engine"})``.
    """

    def __getattr__(name: str) -> Any:  # noqa: N807  # the module hook Python calls
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_heavy(where[name]), name)

    return __getattr__
