"""Errors of the vision layer: one base, subclasses by cause."""

from __future__ import annotations

from imajin.errors import ServiceUnavailable, UpstreamError


class VisionError(Exception):
    """Base of every vision-layer error."""


class UnknownDetector(VisionError):
    """No face detector is registered under the configured name."""


class DetectorNotInstalled(VisionError):
    """The detector's library is not installed; the message names the package."""


class FeaturesUnavailable(VisionError, ServiceUnavailable):
    """The feature extractor (a vision model) cannot be reached or is not configured (503)."""

    code = "features_unavailable"


class FeaturesInvalid(VisionError, UpstreamError):
    """The vision model's answer broke the feature schema after its retries (502, stage
    ``features``)."""

    code = "features_invalid"
