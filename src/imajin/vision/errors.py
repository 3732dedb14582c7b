"""Errors of the vision layer: one base, subclasses by cause."""

from __future__ import annotations


class VisionError(Exception):
    """Base of every vision-layer error."""


class UnknownDetector(VisionError):
    """No face detector is registered under the configured name."""


class DetectorNotInstalled(VisionError):
    """The detector's library is not installed; the message names the package."""
