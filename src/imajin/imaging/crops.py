"""Safe-zone crop planning: which region of a master becomes each derivative.

A derivative is cut from its master as the *largest centred* rectangle at the
derivative's aspect ratio, then resized to the exact size. The safe zone (the
central ``fraction`` of each dimension, where the subject sits) is centred as
well, so the largest centred crop keeps the whole safe zone whenever any crop
of that ratio can, and otherwise covers as much of it as possible.
"""

from __future__ import annotations

from dataclasses import dataclass

from imajin.config.imaging import DEFAULT_SAFE_ZONE, SAFE_ZONE_MAX, SAFE_ZONE_MIN
from imajin.errors import InvalidInput
from imajin.imaging.sizes import Size, family


@dataclass(frozen=True, slots=True)
class CropBox:
    """A pixel rectangle: ``left``/``top`` inclusive, ``right``/``bottom`` exclusive."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @property
    def size(self) -> Size:
        return Size(self.width, self.height)

    def contains(self, other: CropBox) -> bool:
        """True when ``other`` lies wholly inside this box."""
        return (
            self.left <= other.left
            and self.top <= other.top
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    def overlap_area(self, other: CropBox) -> int:
        """The number of pixels this box shares with ``other``."""
        width = min(self.right, other.right) - max(self.left, other.left)
        height = min(self.bottom, other.bottom) - max(self.top, other.top)
        return max(width, 0) * max(height, 0)


@dataclass(frozen=True, slots=True)
class DerivativeCrop:
    """How one derivative is cut: the ``box`` in master pixels, resized to ``size``."""

    derivative: str
    size: Size
    box: CropBox
    keeps_safe_zone: bool


def check_safe_zone(fraction: float) -> float:
    """Return ``fraction`` if it is a valid safe zone (SPEC §3.1: the central 60-80%).

    Raises:
        InvalidInput: the fraction is outside ``[0.6, 0.8]``.
    """
    if not SAFE_ZONE_MIN <= fraction <= SAFE_ZONE_MAX:
        raise InvalidInput(
            f"`safe_zone` must be between {SAFE_ZONE_MIN} and {SAFE_ZONE_MAX} "
            f"(the central 60-80% of each dimension); got {fraction}.",
            field="safe_zone",
        )
    return fraction


def safe_zone_box(master: Size, *, fraction: float = DEFAULT_SAFE_ZONE) -> CropBox:
    """The centred rectangle covering ``fraction`` of the master's width and of its height.

    Raises:
        InvalidInput: ``fraction`` is outside ``[0.6, 0.8]``.
    """
    check_safe_zone(fraction)
    width = max(1, round(master.width * fraction))
    height = max(1, round(master.height * fraction))
    return _centred(master, width, height)


def plan_crop(master: Size, target: Size) -> CropBox:
    """The largest centred crop of ``master`` at ``target``'s aspect ratio.

    The crop's ratio matches the target's to within one pixel of rounding; the
    caller resizes it to exactly ``target``. Because the crop is maximal and
    centred, it contains the centred safe zone whenever a crop of this ratio
    can (see :func:`safe_zone_box`) and otherwise covers as much of it as any
    crop of this ratio could.
    """
    # Compare ratios exactly in integers: target wider than master (or equal)?
    if target.width * master.height >= target.height * master.width:
        width = master.width
        # Round half up: height = width * th / tw.
        height = (2 * width * target.height + target.width) // (2 * target.width)
        height = min(max(height, 1), master.height)
    else:
        height = master.height
        width = (2 * height * target.width + target.height) // (2 * target.height)
        width = min(max(width, 1), master.width)
    return _centred(master, width, height)


def plan_family_crops(
    name: str, *, safe_zone: float = DEFAULT_SAFE_ZONE
) -> tuple[DerivativeCrop, ...]:
    """The crop of every derivative of family ``name``, and whether it keeps the safe zone.

    Raises:
        NotFound: ``name`` is not a family.
        InvalidInput: ``safe_zone`` is outside ``[0.6, 0.8]``.
    """
    spec = family(name)
    zone = safe_zone_box(spec.master, fraction=safe_zone)
    crops = []
    for item in spec.derivatives:
        box = plan_crop(spec.master, item.size)
        crops.append(DerivativeCrop(item.name, item.size, box, box.contains(zone)))
    return tuple(crops)


def _centred(outer: Size, width: int, height: int) -> CropBox:
    # Floor on both sides: a larger box's edges never fall inside a smaller one's,
    # so nested centred boxes stay nested despite odd differences.
    return CropBox((outer.width - width) // 2, (outer.height - height) // 2, width, height)
