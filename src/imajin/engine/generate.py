"""Run one pipeline call: seeded noise, per-step progress, cancellation between steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

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


class LatentsHook(Protocol):
    """Sees each step's latents (the live preview); keyword arguments say where they stand."""

    def __call__(self, latents: Any, *, step: int, total: int, image: int) -> None: ...


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
        latents: LatentsHook | None = None,
    ) -> None:
        self._images = images
        self._steps = steps
        self._progress = progress
        self._cancel = cancel
        self._latents = latents
        self._done_before = 0
        self._span = 1  # images advanced by one step (more than 1 inside a batched call)
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
        self.start_images(index, 1)

    def start_images(self, first: int, count: int) -> None:
        """Note that images ``first`` .. ``first + count - 1`` are denoised together now."""
        self.image = first
        self._done_before = first * self._steps
        self._span = count
        self.check_cancelled()

    def on_step_end(
        self, pipe: Any, step_index: int, timestep: Any, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """diffusers ``callback_on_step_end``: report the step, then stop if cancelled."""
        # Some samplers (Heun) run more model steps than asked; scale them onto the plan.
        per_image = max(int(getattr(pipe, "num_timesteps", self._steps) or self._steps), 1)
        done = min(round((step_index + 1) * self._steps / per_image), self._steps)
        self.step = self._done_before + done * self._span
        if self._progress is not None:
            self._progress(Progress(self.step, self.total, self.image, self._images))
        if self._latents is not None and "latents" in kwargs:
            self._latents(kwargs["latents"], step=self.step, total=self.total, image=self.image)
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


class BatchStepper:
    """``callback_on_step_end`` for a batched call: every request's tracker sees each step.

    A request cancelled mid-call is marked and left to finish with the batch (its images are
    dropped afterwards), so its neighbours are not disturbed; only when every request in the
    call is cancelled is the call itself stopped.
    """

    def __init__(self, trackers: list[StepTracker]) -> None:
        self._trackers = trackers
        self.cancelled: dict[int, GenerationCancelled] = {}

    def on_step_end(
        self, pipe: Any, step_index: int, timestep: Any, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """Report the step to each live request; stop the call once none is left."""
        for key, tracker in enumerate(self._trackers):
            if key in self.cancelled:
                continue
            try:
                tracker.on_step_end(pipe, step_index, timestep, kwargs)
            except GenerationCancelled as error:
                self.cancelled[key] = error
        if len(self.cancelled) == len(self._trackers):
            raise next(iter(self.cancelled.values()))
        return kwargs


def render_batch(
    pipe: Any,
    calls: list[ImageCall],
    *,
    family: Family,
    scheduler: Any,
    stepper: BatchStepper,
) -> list[Image.Image]:
    """Denoise ``calls`` (same size, steps, guidance) in one pipeline call.

    Each image keeps its prompt, negative prompt and its own CPU generator seeded with
    its seed, so its starting noise is the noise it would get alone.
    """
    first = calls[0]
    negatives = [call.negative_prompt for call in calls]
    arguments: dict[str, Any] = {
        "prompt": [call.prompt for call in calls],
        # All empty → None, as for one image (SDXL zeroes the embedding for "no negative").
        "negative_prompt": negatives if any(negatives) else None,
        "width": first.width,
        "height": first.height,
        "num_inference_steps": first.steps,
        "guidance_scale": first.guidance,
        "num_images_per_prompt": 1,
        "generator": [torch.Generator(device="cpu").manual_seed(call.seed) for call in calls],
        "callback_on_step_end": stepper.on_step_end,
        "output_type": "pil",
    }
    if family.guidance_rescale and first.guidance_rescale > 0:
        arguments["guidance_rescale"] = first.guidance_rescale
    original = pipe.scheduler
    pipe.scheduler = scheduler
    try:
        output = pipe(**arguments)
    finally:
        pipe.scheduler = original
    return list(output.images)
