"""The detector registry: backend names to classes, built-ins included."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imajin.plugins import PluginRegistry
from imajin.vision.backends.opencv_haar import OpenCVHaarDetector
from imajin.vision.base import FaceDetector
from imajin.vision.errors import UnknownDetector

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


register_detector("opencv-haar", OpenCVHaarDetector)
