"""Generation planning: what size to ask a model for, and how to reach the master from it.

A model is asked for an image at the family's aspect ratio near its native
pixel budget (``native``²), with both sides multiples of 64 as diffusion
models need. The master size itself is reached by a centred crop to the
master's exact ratio and one resize, so sizes no model can produce (1200x675,
1584x396) come from the crop, never from the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from imajin.errors import InvalidInput
from imajin.imaging.crops import CropBox, plan_crop
from imajin.imaging.sizes import Size, family

GENERATION_MULTIPLE = 64
# Real models are 512+; the tiny test models of the same architectures are 64.
MIN_NATIVE = 64
MAX_NATIVE = 4096
# An aspect error costs twice an area error of the same size: a wrong ratio is
# cropped away (lost pixels), a wrong area only shifts the resize factor.
_ASPECT_WEIGHT = 2.0


@dataclass(frozen=True, slots=True)
class GenerationPlan:
    """How one family's master is produced from a model.

    1. Generate an image of size ``generate`` (both sides multiples of 64).
    2. Crop ``crop`` from it: the largest centred box at the master's ratio.
    3. Resize the crop to exactly ``master``.
    """

    family: str
    native: int
    generate: Size
    crop: CropBox
    master: Size

    @property
    def scale(self) -> float:
        """Resize factor from the crop to the master (above 1 means upscaling)."""
        return self.master.width / self.crop.width


def plan_generation(name: str, *, native: int) -> GenerationPlan:
    """Plan the generation of family ``name``'s master with a model of native side ``native``.

    The generated size has the aspect ratio closest to the master's, and an
    area close to ``native``², among sizes whose sides are multiples of 64.

    Raises:
        NotFound: ``name`` is not a family.
        InvalidInput: ``native`` is outside ``[64, 4096]``.
    """
    if not MIN_NATIVE <= native <= MAX_NATIVE:
        raise InvalidInput(
            f"`native` must be a model's native side in pixels, between {MIN_NATIVE} and "
            f"{MAX_NATIVE}; got {native}.",
            field="native",
        )
    master = family(name).master
    generate = generation_size(master.aspect, native=native)
    return GenerationPlan(name, native, generate, plan_crop(generate, master), master)


def generation_size(aspect: float, *, native: int) -> Size:
    """The multiple-of-64 size nearest to ``aspect`` with an area near ``native``².

    Minimises ``2·|log(aspect error)| + |log(area error)|`` over every height
    that is a multiple of 64, each paired with its best-fitting width.
    """
    budget = native * native
    step = GENERATION_MULTIPLE
    # Heights up to 4x native cover a 1:16 strip at this budget, past every family.
    candidates = (
        Size(max(step, round(height * aspect / step) * step), height)
        for height in range(step, 4 * native + step, step)
    )
    return min(candidates, key=lambda size: _cost(size, aspect=aspect, budget=budget))


def _cost(size: Size, *, aspect: float, budget: int) -> float:
    aspect_error = abs(math.log(size.aspect / aspect))
    area_error = abs(math.log(size.area / budget))
    return _ASPECT_WEIGHT * aspect_error + area_error


def safe_zone_prompt_hint() -> str:
    """Prompt text asking the model to keep the subject centred within the safe zone.

    Appended to a generation prompt so that the crops to every derivative's
    ratio keep the subject; it names composition only, never content.
    """
    # Short: CLIP text encoders read 77 tokens, and the caller's prompt comes first.
    return "centered composition, subject within the central area, margin on all sides"
