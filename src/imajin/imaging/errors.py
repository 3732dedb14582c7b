"""The imaging subsystem's base error."""

from __future__ import annotations

from imajin.errors import ImajinError


class ImagingError(ImajinError):
    """libvips could not decode, resize or encode an image (not the caller's mistake)."""

    code = "imaging_error"
