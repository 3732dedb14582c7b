"""The 7-level maturity scale (SPEC §1.3) and the allowed band of a request.

Levels are ordered from ``sfw`` to ``extreme``; comparisons between levels use
that order, not alphabetical order. Legal safety (:mod:`imajin.safety.policy`)
binds every level, ``extreme`` included.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict

from imajin.contracts.maturity import (
    LEGACY_LEVELS,
    LegacyMaturityLevel,
    MaturityLevel,
    MaturityPolicy,
    maturity_level,
)
from imajin.errors import InvalidInput

__all__ = [
    "LEGACY_LEVELS",
    "LegacyMaturityLevel",
    "MaturityBand",
    "MaturityLevel",
    "MaturityPolicy",
    "allowed_band",
    "clamp",
    "parse_maturity",
]


def parse_maturity(value: str | MaturityLevel, *, field: str = "maturity") -> MaturityLevel:
    """Parse a maturity level, accepting S1's legacy values (``explicit``).

    Case, surrounding space and ``-`` or space for ``_`` are forgiven.

    Raises:
        InvalidInput: *value* is not a level; the error names *field* and the
            allowed values.
    """
    try:
        return maturity_level(value, field=field)
    except ValueError as error:
        raise InvalidInput(str(error), field=field) from None


def clamp(
    level: MaturityLevel, *, minimum: MaturityLevel, maximum: MaturityLevel
) -> tuple[MaturityLevel, bool]:
    """Clamp *level* into ``[minimum, maximum]``.

    Returns:
        The clamped level and whether it differs from *level*.

    Raises:
        InvalidInput: *minimum* is above *maximum*.
    """
    if minimum > maximum:
        raise InvalidInput(
            f"The maturity band is empty: minimum `{minimum}` is above maximum `{maximum}`.",
            field="minimumRating",
        )
    if level < minimum:
        return minimum, True
    if level > maximum:
        return maximum, True
    return level, False


class MaturityBand(BaseModel):
    """The inclusive range of levels a result may have."""

    model_config = ConfigDict(frozen=True)

    minimum: MaturityLevel
    maximum: MaturityLevel

    def clamp(
        self, level: MaturityLevel | str, *, field: str = "maturity"
    ) -> tuple[MaturityLevel, bool]:
        """Clamp *level* into the band; see :func:`clamp`."""
        return clamp(parse_maturity(level, field=field), minimum=self.minimum, maximum=self.maximum)


# Without explicit content, the ceiling is the highest level below explicit_soft.
_NON_EXPLICIT_CEILING: Final = MaturityLevel.MATURE


def allowed_band(
    policy: MaturityPolicy,
    *,
    minimum: MaturityLevel | str | None = None,
    maximum: MaturityLevel | str | None = None,
) -> MaturityBand:
    """Combine a request's ``minimumRating``/``maximumRating`` with the instance policy.

    A bound the request leaves out comes from the policy's defaults. When the
    policy does not allow explicit content, both bounds are capped at
    ``mature``.

    Raises:
        InvalidInput: A bound is not a level, or the request's minimum is above
            its maximum.
    """
    low = (
        policy.default_minimum
        if minimum is None
        else parse_maturity(minimum, field="minimumRating")
    )
    high = (
        policy.default_maximum
        if maximum is None
        else parse_maturity(maximum, field="maximumRating")
    )
    if minimum is not None and maximum is not None and low > high:
        raise InvalidInput(
            f"`minimumRating` ({low}) is above `maximumRating` ({high}).", field="minimumRating"
        )
    if not policy.allow_explicit_content:
        high = min(high, _NON_EXPLICIT_CEILING, key=lambda level: level.rank)
        low = min(low, _NON_EXPLICIT_CEILING, key=lambda level: level.rank)
    # A request bound on one side may cross a policy default on the other; the
    # request wins and the default gives way.
    if low > high:
        if minimum is not None:
            high = low
        else:
            low = high
    return MaturityBand(minimum=low, maximum=high)
