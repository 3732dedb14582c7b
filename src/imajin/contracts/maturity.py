"""The 7-level maturity scale (SPEC §1.3) and an instance's maturity policy, as on the wire.

Levels are ordered from ``sfw`` to ``extreme``; comparisons between levels use
that order, not alphabetical order. :mod:`imajin.safety.maturity` adds the
server's rules (bands, clamping) on top.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    model_validator,
)
from pydantic.alias_generators import to_camel

__all__ = [
    "LEGACY_LEVELS",
    "LegacyMaturityLevel",
    "MaturityLevel",
    "MaturityPolicy",
    "maturity_level",
]


class MaturityLevel(StrEnum):
    """A maturity level; ``<``, ``<=``, ``>``, ``>=`` follow the scale."""

    SFW = "sfw"
    SUGGESTIVE = "suggestive"
    MATURE = "mature"
    EXPLICIT_SOFT = "explicit_soft"
    EXPLICIT_NUDE = "explicit_nude"
    EXPLICIT_SEXUAL = "explicit_sexual"
    EXTREME = "extreme"

    @property
    def rank(self) -> int:
        """The level's position on the scale, 0 (``sfw``) to 6 (``extreme``)."""
        return _ORDER.index(self)

    @property
    def label(self) -> str:
        """A short human-readable name."""
        return _INFO[self][0]

    @property
    def description(self) -> str:
        """One neutral sentence on what the level allows."""
        return _INFO[self][1]

    @property
    def is_explicit(self) -> bool:
        """True from ``explicit_soft`` upwards."""
        return self.rank >= _ORDER.index(MaturityLevel.EXPLICIT_SOFT)

    def _rank_of(self, other: object) -> int | None:
        if isinstance(other, MaturityLevel):
            return other.rank
        if isinstance(other, str):
            return maturity_level(other).rank
        return None

    # str would compare alphabetically ("explicit_nude" < "mature"); compare by rank.
    def __lt__(self, other: str) -> bool:
        rank = self._rank_of(other)
        return NotImplemented if rank is None else self.rank < rank

    def __le__(self, other: str) -> bool:
        rank = self._rank_of(other)
        return NotImplemented if rank is None else self.rank <= rank

    def __gt__(self, other: str) -> bool:
        rank = self._rank_of(other)
        return NotImplemented if rank is None else self.rank > rank

    def __ge__(self, other: str) -> bool:
        rank = self._rank_of(other)
        return NotImplemented if rank is None else self.rank >= rank


_ORDER: Final[tuple[MaturityLevel, ...]] = tuple(MaturityLevel)

_INFO: Final[dict[MaturityLevel, tuple[str, str]]] = {
    MaturityLevel.SFW: ("Safe for work", "Suitable for every audience and any public page."),
    MaturityLevel.SUGGESTIVE: (
        "Suggestive",
        "Mild allure such as fashion or swimwear poses, with no nudity.",
    ),
    MaturityLevel.MATURE: (
        "Mature",
        "Adult themes and revealing clothing, with intimate areas covered.",
    ),
    MaturityLevel.EXPLICIT_SOFT: (
        "Explicit (soft)",
        "Implied or partly obscured nudity without explicit detail.",
    ),
    MaturityLevel.EXPLICIT_NUDE: ("Explicit (nude)", "Full nudity without sexual activity."),
    MaturityLevel.EXPLICIT_SEXUAL: (
        "Explicit (sexual)",
        "Sexual activity between consenting adults.",
    ),
    MaturityLevel.EXTREME: (
        "Extreme",
        "The most intense adult content permitted, still bound by legal safety.",
    ),
}

LEGACY_LEVELS: Final[dict[str, MaturityLevel]] = {"explicit": MaturityLevel.EXPLICIT_NUDE}
"""S1's 4-level values that are not on the 7-level scale, and what they map to."""


def maturity_level(value: str | MaturityLevel, *, field: str = "maturity") -> MaturityLevel:
    """Parse a maturity level, accepting S1's legacy values (``explicit``).

    Case, surrounding space and ``-`` or space for ``_`` are forgiven. The server's
    :func:`imajin.safety.maturity.parse_maturity` raises its own error with this message.

    Raises:
        ValueError: *value* is not a level; the message names *field* and the allowed values.
    """
    if isinstance(value, MaturityLevel):
        return value
    key = (
        value.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(value, str) else ""
    )
    if key in LEGACY_LEVELS:
        return LEGACY_LEVELS[key]
    try:
        return MaturityLevel(key)
    except ValueError:
        allowed = ", ".join(level.value for level in MaturityLevel)
        raise ValueError(
            f"`{field}` must be one of {allowed} (or the legacy value `explicit`); got {value!r}."
        ) from None


def _accept_legacy(value: Any, info: ValidationInfo) -> Any:
    # S1's 4-level values (`explicit`) are accepted on input (SPEC §1.3). Inside pydantic a
    # ValueError becomes a ValidationError carrying the field's path.
    if not isinstance(value, str):
        return value
    return maturity_level(value, field=to_camel(info.field_name or "maturity"))


LegacyMaturityLevel = Annotated[MaturityLevel, BeforeValidator(_accept_legacy)]
"""A maturity level in a pydantic model that also accepts the legacy 4-level names."""


class MaturityPolicy(BaseModel):
    """An instance's maturity policy (``maturityPolicy`` in its configuration).

    All three values are required: the instance owns them (SPEC §4.3).
    """

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )

    allow_explicit_content: StrictBool = Field(
        description="Whether levels from explicit_soft upwards may be produced."
    )
    default_minimum: LegacyMaturityLevel = Field(
        description="The band's floor when a request names none."
    )
    default_maximum: LegacyMaturityLevel = Field(
        description="The band's ceiling when a request names none."
    )

    @model_validator(mode="after")
    def _ordered(self) -> MaturityPolicy:
        if self.default_minimum > self.default_maximum:
            raise ValueError(
                f"defaultMinimum `{self.default_minimum}` is above "
                f"defaultMaximum `{self.default_maximum}`"
            )
        return self
