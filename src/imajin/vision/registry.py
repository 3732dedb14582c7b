"""The detector registry: backend names to classes, built-ins included."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from imajin.plugins import PluginRegistry
from imajin.vision.backends.opencv_haar import OpenCVHaarDetector
from imajin.vision.base import FaceDetector
from imajin.vision.errors import UnknownDetector, VisionConfigError

_DETECTORS: PluginRegistry[FaceDetector] = PluginRegistry(
    FaceDetector,
    noun="face detector",
    unknown=UnknownDetector,
    fix="Fix the detector name in configuration, or register it before loading config.",
)


def register_detector(name: str, cls: type[FaceDetector], *, replace: bool = False) -> None:
    """Make ``cls`` available under ``name`` (the detector backend named in configuration).

    Raises:
        ValueError: The name is malformed, ``cls`` is no detector, or the name is taken.
    """
    _DETECTORS.register(name, cls, replace=replace)


def detector_class(name: str) -> type[FaceDetector]:
    """The detector class registered as ``name``.

    Raises:
        UnknownDetector: Nothing is registered under ``name``; the message lists what is.
    """
    return _DETECTORS.get(name)


def detector_names() -> list[str]:
    """Names of every registered detector, sorted."""
    return _DETECTORS.names()


def build_detector(name: str, options: Mapping[str, Any] | None = None) -> FaceDetector:
    """A detector of backend ``name`` with ``options`` validated by its options model."""
    cls = detector_class(name)
    return cls(cls.options_type.model_validate(dict(options or {})))


def detector_factory(
    spec: str, options: Mapping[str, Any] | None = None, *, field: str = "vision.face_detector"
) -> Callable[[], FaceDetector]:
    """Check ``spec`` and ``options`` now (at start-up); build the detector when called.

    ``spec`` is a registered name, or ``package.module:ClassName`` of a
    :class:`FaceDetector` subclass, which is imported (so a detector of your own needs
    no code of imajin's changed).
    Building waits for the first call, so the detector's library loads on first use.

    Raises:
        VisionConfigError: Nothing is registered under the name, the import path does not
            lead to a FaceDetector subclass, or the options are invalid; names ``field``.
    """
    try:
        cls = _imported(spec) if ":" in spec else detector_class(spec)
        checked = cls.options_type.model_validate(dict(options or {}))
    except (UnknownDetector, ValueError) as error:
        raise VisionConfigError(f"{field}: {error}", field=field) from error
    return lambda: cls(checked)


def _imported(spec: str) -> type[FaceDetector]:
    module_name, _, class_name = spec.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        message = f"cannot import {spec!r} ({error}); write package.module:ClassName"
        raise ValueError(message) from error
    if not (isinstance(found, type) and issubclass(found, FaceDetector)):
        raise ValueError(f"{spec!r} is not a FaceDetector subclass")
    return found


register_detector("opencv-haar", OpenCVHaarDetector)
