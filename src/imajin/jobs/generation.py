"""Running one engine generation inside a job: progress to the job, cancel to the engine."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from imajin.engine.errors import GenerationCancelled
from imajin.jobs.handlers import JobCancelled, JobContext

if TYPE_CHECKING:  # the engine imports torch; callers hold a built one
    from imajin.engine.engine import Engine, GenerationResult
    from imajin.engine.generate import Progress
    from imajin.engine.preview import Preview
    from imajin.engine.request import GenerationRequest

JobStep = tuple[int, int, str, dict[str, Any]]
"""(step, total, message, extra event fields) as the job reports them."""


def generate_in_job(
    ctx: JobContext,
    engine: Engine,
    request: GenerationRequest,
    *,
    to_job_step: Callable[[Progress], JobStep],
    after_report: Callable[[], None] | None = None,
) -> GenerationResult:
    """Generate ``request``, reporting each engine step (and live previews) to the job.

    A cancel is seen when progress is reported; raising inside the pipeline's step
    callback would leave diffusers mid-step, so it sets the engine's cancel flag
    instead, and the engine's ``GenerationCancelled`` becomes :class:`JobCancelled`.

    Args:
        to_job_step: Maps the engine's progress to the job's step, total and message.
        after_report: Called after each report (the studio times its own bookkeeping).
    """
    cancelled = False

    def progress(state: Progress) -> None:
        nonlocal cancelled
        step, total, message, extra = to_job_step(state)
        try:
            ctx.report(step, total, message, **extra)
        except JobCancelled:
            cancelled = True  # the engine stops at its next cancel check
        if after_report is not None:
            after_report()

    def preview(shown: Preview) -> None:
        ctx.preview(
            step=shown.step,
            total=shown.total,
            image=shown.image,
            width=shown.width,
            height=shown.height,
            dataUrl="data:image/webp;base64," + base64.b64encode(shown.webp).decode("ascii"),
        )

    try:
        return engine.generate(
            request, progress=progress, cancel=lambda: cancelled, preview=preview
        )
    except GenerationCancelled:
        raise JobCancelled(f"job {ctx.job.id} cancelled") from None
