"""Run one pipeline call: seeded noise, per-step progress, cancellation between steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image

from imajin.engine.errors import GenerationCancelled
from imajin.engine.families import Family


@dataclass(frozen=True)
class Progress:
    """Where a request stands.

    Attributes:
        step: Denoising steps finished, over all images of the request.
        total: Steps the whole request takes.
        image: Index of the image being made (0-based).
        images: Images in the request.
    """

    step: int
    total: int
    image: int
    images: int

    @property
    def fraction(self) -> float:
        """Share done, 0.0 to 1.0."""
        return self.step / self.total if self.total else 1.0


ProgressCallback = Callable[[Progress], None]
CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class ImageCall:
    """The arguments of one pipeline call (one image).

    Attributes:
        prompt: Positive prompt.
        negative_prompt: Negative prompt ("" for none).
        width: Pixels.
        height: Pixels.
        steps: Denoising steps.
        guidance: CFG scale.
        guidance_rescale: CFG rescale (0 = off); used by families that support it.
        seed: Seed of this image's noise.
    """

    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    guidance: float
    guidance_rescale: float
    seed: int


class StepTracker:
    """Counts steps over a whole request; reports progress and honours the cancel flag."""

    def __init__(
        self,
        *,
        images: int,
        steps: int,
        progress: ProgressCallback | None,
        cancel: CancelCheck | None,
    ) -> None:
        self._images = images
        self._steps = steps
        self._progress = progress
        self._cancel = cancel
        self._done_before = 0
        self.image = 0
        self.step = 0

    @property
    def total(self) -> int:
        """Steps of the whole request (as planned)."""
        return self._images * self._steps

    def check_cancelled(self) -> None:
        """Raise :class:`GenerationCancelled` if the flag is set."""
        if self._cancel is not None and self._cancel():
            raise GenerationCancelled(
                f"generation was cancelled after {self.step} of {self.total} steps",
                step=self.step,
                total=self.total,
            )

    def start_image(self, index: int) -> None:
        """Note that image ``index`` begins (its steps follow those of earlier images)."""
        self.image = index
        self._done_before = index * self._steps
        self.check_cancelled()

    def on_step_end(
        self, pipe: Any, step_index: int, timestep: Any, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """diffusers ``callback_on_step_end``: report the step, then stop if cancelled."""
        # Some samplers (Heun) run more model steps than asked; scale them onto the plan.
        per_image = max(int(getattr(pipe, "num_timesteps", self._steps) or self._steps), 1)
        done = min(round((step_index + 1) * self._steps / per_image), self._steps)
        self.step = self._done_before + done
        if self._progress is not None:
            self._progress(Progress(self.step, self.total, self.image, self._images))
        self.check_cancelled()
        return kwargs


def render(
    pipe: Any,
    call: ImageCall,
    *,
    family: Family,
    scheduler: Any,
    tracker: StepTracker,
) -> Image.Image:
    """Make one image with ``pipe`` using ``scheduler``; the pipeline's own is put back after.

    The noise comes from a CPU ``torch.Generator`` seeded with ``call.seed``, so the
    starting noise for a seed is the same on every device.
    """
    arguments: dict[str, Any] = {
        "prompt": call.prompt,
        "negative_prompt": call.negative_prompt or None,
        "width": call.width,
        "height": call.height,
        "num_inference_steps": call.steps,
        "guidance_scale": call.guidance,
        "num_images_per_prompt": 1,
        "generator": torch.Generator(device="cpu").manual_seed(call.seed),
        "callback_on_step_end": tracker.on_step_end,
        "output_type": "pil",
    }
    if family.guidance_rescale and call.guidance_rescale > 0:
        arguments["guidance_rescale"] = call.guidance_rescale
    original = pipe.scheduler
    pipe.scheduler = scheduler
    try:
        output = pipe(**arguments)
    finally:
        pipe.scheduler = original
    image: Image.Image = output.images[0]
    return image
