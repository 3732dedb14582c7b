"""The detector registry: backend names to classes, built-ins included."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from imajin.vision.backends.opencv_haar import OpenCVHaarDetector
from imajin.vision.base import FaceDetector
from imajin.vision.errors import UnknownDetector

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_DETECTORS: dict[str, type[FaceDetector]] = {}


def register_detector(name: str, cls: type[FaceDetector], *, replace: bool = False) -> None:
    """Make ``cls`` available under ``name`` (the detector backend named in configuration).

    Raises:
        ValueError: The name is malformed, ``cls`` is no detector, or the name is taken.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"Detector name {name!r} is malformed: use lower-case letters, digits, '-' and '_'."
        )
    if not (isinstance(cls, type) and issubclass(cls, FaceDetector)):
        raise ValueError(f"{cls!r} is not a FaceDetector subclass, so it cannot be registered.")
    if name in _DETECTORS and not replace and _DETECTORS[name] is not cls:
        raise ValueError(
            f"Detector {name!r} is already registered ({_DETECTORS[name].__qualname__}); "
            "pass replace=True to override it."
        )
    _DETECTORS[name] = cls


def detector_class(name: str) -> type[FaceDetector]:
    """The detector class registered as ``name``.

    Raises:
        UnknownDetector: Nothing is registered under ``name``; the message lists what is.
    """
    try:
        return _DETECTORS[name]
    except KeyError:
        raise UnknownDetector(
            f"No face detector {name!r} — registered: {', '.join(detector_names())}. "
            "Fix the detector name in configuration, or register it before loading config."
        ) from None


def detector_names() -> list[str]:
    """Names of every registered detector, sorted."""
    return sorted(_DETECTORS)


def build_detector(name: str, options: Mapping[str, Any] | None = None) -> FaceDetector:
    """A detector of backend ``name`` with ``options`` validated by its options model."""
    cls = detector_class(name)
    return cls(cls.options_type.model_validate(dict(options or {})))


register_detector("opencv-haar", OpenCVHaarDetector)
