"""Errors the variations service raises, on top of :mod:`imajin.errors`.

Each is also the generic error an HTTP client already knows (``NotFound`` → 404,
``Conflict`` → 409 …) and keeps that error's ``code``, so bodies do not change.
"""

from __future__ import annotations

from imajin.errors import Conflict, ImajinError, InvalidInput, NotFound


class VariationError(ImajinError):
    """Base of every error the variations service raises."""

    code = "variation_error"


class VariationNotFound(VariationError, NotFound):
    """No variation (or derivative) has this id or name."""

    code = NotFound.code


class VariationConflict(VariationError, Conflict):
    """The name is taken, or the variation is still being generated."""

    code = Conflict.code


class UnknownVariationModel(VariationError, InvalidInput):
    """The request names a model the registry does not know."""

    code = InvalidInput.code


class VariationFailed(VariationError):
    """Every family of a variation failed; the variation is marked ``failed``."""

    code = "variation_failed"
