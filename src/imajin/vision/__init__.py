"""Face detection for selfie → avatar profiles (SPEC §6.2), shaped like :mod:`imajin.llm`.

Callers hold a :class:`FaceDetector` (built by :func:`build_detector` from a backend
name and its options) and call :meth:`FaceDetector.detect` on an RGB ``uint8`` array.
Backends subclass :class:`FaceDetector` and register with :func:`register_detector`,
built-ins exactly as third-party ones.

Plugging a stronger detector: subclass :class:`FaceDetector` (with its own
``options_type``), call ``register_detector("my-detector", MyDetector)`` before the
settings are loaded, and name ``my-detector`` as the detector backend in configuration.
Do not ship AGPL or non-commercial weights (e.g. YOLOv8-face) with imajin.

Feature extraction (:mod:`imajin.vision.features`): a :class:`FeatureExtractor`, built by
:func:`build_feature_extractor` from ``vision.features_model`` (an ``llm.models`` entry with
the ``vision`` capability), asks that model about a face crop and its photo and returns
:data:`Features` valid for the schema in ``features.yaml``.

Importing this package loads no model; OpenCV is imported on first use.
"""

from __future__ import annotations

from imajin.vision.base import DetectedFace, DetectorOptions, FaceDetector, Point
from imajin.vision.errors import (
    FEATURES_STAGE,
    DetectorNotInstalled,
    FeaturesInvalid,
    FeaturesTimeout,
    FeaturesUnavailable,
    UnknownDetector,
    VisionConfigError,
    VisionError,
)
from imajin.vision.feature_schema import FeatureSchema, load_feature_schema
from imajin.vision.features import (
    NO_VISION_MODEL_MESSAGE,
    FeatureExtractor,
    Features,
    build_feature_extractor,
)
from imajin.vision.quality import FaceAssessment, assess_faces
from imajin.vision.registry import build_detector, detector_class, detector_names, register_detector

__all__ = [
    "FEATURES_STAGE",
    "NO_VISION_MODEL_MESSAGE",
    "DetectedFace",
    "DetectorNotInstalled",
    "DetectorOptions",
    "FaceAssessment",
    "FaceDetector",
    "FeatureExtractor",
    "FeatureSchema",
    "Features",
    "FeaturesInvalid",
    "FeaturesTimeout",
    "FeaturesUnavailable",
    "Point",
    "UnknownDetector",
    "VisionConfigError",
    "VisionError",
    "assess_faces",
    "build_detector",
    "build_feature_extractor",
    "detector_class",
    "detector_names",
    "load_feature_schema",
    "register_detector",
]
