"""Errors of the vision layer: one base, subclasses by cause.

The feature-extraction errors also derive from the project-wide class that says whose
mistake it is, so the HTTP layer maps them without knowing this package:
:class:`FeaturesUnavailable` is 503, :class:`FeaturesTimeout` 504, :class:`FeaturesInvalid` 502.
Each takes only a message (plus the stage), so a job's error code maps back to the class.
"""

from __future__ import annotations

from imajin.errors import ConfigError, ServiceUnavailable, UpstreamError, UpstreamTimeout

FEATURES_STAGE = "features"
"""The name of the feature-extraction stage in messages, timings and job errors."""


class VisionError(Exception):
    """Base of every vision-layer error."""


class UnknownDetector(VisionError):
    """No face detector is registered under the configured name."""


class DetectorNotInstalled(VisionError):
    """The detector's library is not installed; the message names the package."""


class VisionConfigError(VisionError, ConfigError):
    """The ``vision`` configuration cannot work (a model without vision, a bad feature
    schema); raised at start-up, naming the key."""

    code = "vision_config_error"


class FeaturesUnavailable(VisionError, ServiceUnavailable):
    """The vision model could not be asked (down, unreachable, failing): HTTP 503."""

    code = "features_unavailable"

    def __init__(self, message: str, *, stage: str = FEATURES_STAGE) -> None:
        super().__init__(message)
        self.stage = stage


class FeaturesTimeout(UpstreamTimeout, FeaturesUnavailable):
    """The vision model did not answer in time: HTTP 504 (still a :class:`FeaturesUnavailable`)."""

    code = "features_timeout"


class FeaturesInvalid(VisionError, UpstreamError):
    """After its retries the model's answer was still not valid JSON for the feature schema:
    HTTP 502; the message names the stage."""

    code = "features_invalid"

    def __init__(self, message: str, *, stage: str = FEATURES_STAGE) -> None:
        super().__init__(message)
        self.stage = stage
