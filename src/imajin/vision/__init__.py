"""Face detection for selfie → avatar profiles (SPEC §6.2), shaped like :mod:`imajin.llm`.

Callers hold a :class:`FaceDetector` (built by :func:`build_detector` from a backend
name and its options) and call :meth:`FaceDetector.detect` on an RGB ``uint8`` array.
Backends subclass :class:`FaceDetector` and register with :func:`register_detector`,
built-ins exactly as third-party ones.

Plugging a stronger detector: subclass :class:`FaceDetector` (with its own
``options_type``), call ``register_detector("my-detector", MyDetector)`` before the
settings are loaded, and name ``my-detector`` as the detector backend in configuration.
Do not ship AGPL or non-commercial weights (e.g. YOLOv8-face) with imajin.

Importing this package loads no model; OpenCV is imported on first use.
"""

from __future__ import annotations

from imajin.vision.base import DetectedFace, DetectorOptions, FaceDetector, Point
from imajin.vision.errors import DetectorNotInstalled, UnknownDetector, VisionError
from imajin.vision.quality import FaceAssessment, assess_faces
from imajin.vision.registry import build_detector, detector_class, detector_names, register_detector

__all__ = [
    "DetectedFace",
    "DetectorNotInstalled",
    "DetectorOptions",
    "FaceAssessment",
    "FaceDetector",
    "Point",
    "UnknownDetector",
    "VisionError",
    "assess_faces",
    "build_detector",
    "detector_class",
    "detector_names",
    "register_detector",
]
