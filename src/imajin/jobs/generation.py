"""Running one engine generation inside a job: progress to the job, cancel to the engine."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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

    A cancel sets the engine's cancel flag (see :class:`_JobLink`), and the engine's
    ``GenerationCancelled`` becomes :class:`JobCancelled`.

    Args:
        to_job_step: Maps the engine's progress to the job's step, total and message.
        after_report: Called after each report (the studio times its own bookkeeping).
    """
    link = _JobLink(ctx, to_job_step=to_job_step, after_report=after_report)
    try:
        return engine.generate(
            request, progress=link.progress, cancel=link.is_cancelled, preview=link.preview
        )
    except GenerationCancelled:
        raise JobCancelled(f"job {ctx.job.id} cancelled") from None


@dataclass(frozen=True)
class JobGeneration:
    """One job's part of a batched generation (see :func:`generate_batch_in_jobs`)."""

    ctx: JobContext
    request: GenerationRequest
    to_job_step: Callable[[Progress], JobStep]
    after_report: Callable[[], None] | None = None


def generate_batch_in_jobs(
    engine: Engine, items: Sequence[JobGeneration]
) -> list[GenerationResult | Exception]:
    """Generate several jobs' requests through :meth:`Engine.generate_batch`.

    Each job reports its own progress and is cancelled alone, as in
    :func:`generate_in_job`; one already cancelled is left out of the engine call, so it
    takes no place in it. Returns one outcome per item: its result, or the error that
    stopped it (a cancel as :class:`JobCancelled`), never a neighbour's.
    """
    from imajin.engine.batching import BatchRequest  # noqa: PLC0415  # torch, with the engine

    # A job cancelled since its batch began (a chat job's LLM stages take seconds) leaves
    # now: in the call, its cancel is seen at the first step and it rides to the last.
    outcomes: dict[int, GenerationResult | Exception] = {}
    live: list[int] = []
    for index, item in enumerate(items):
        if item.ctx.cancel_requested():
            outcomes[index] = JobCancelled(f"job {item.ctx.job.id} cancelled")
        else:
            live.append(index)
    links = {
        index: _JobLink(
            items[index].ctx,
            to_job_step=items[index].to_job_step,
            after_report=items[index].after_report,
        )
        for index in live
    }
    results = engine.generate_batch(
        [
            BatchRequest(items[index].request, progress=link.progress, cancel=link.is_cancelled)
            for index, link in links.items()
        ]
    )
    for index, result in zip(live, results, strict=True):
        stopped = isinstance(result, GenerationCancelled)
        outcomes[index] = (
            JobCancelled(f"job {items[index].ctx.job.id} cancelled") if stopped else result
        )
    return [outcomes[index] for index in range(len(items))]


class _JobLink:
    """Engine progress of one request → its job's progress; the job's cancel → the engine.

    A cancel is seen when progress is reported; raising inside the pipeline's step
    callback would leave diffusers mid-step, so it sets a flag the engine polls.
    """

    def __init__(
        self,
        ctx: JobContext,
        *,
        to_job_step: Callable[[Progress], JobStep],
        after_report: Callable[[], None] | None,
    ) -> None:
        self._ctx = ctx
        self._to_job_step = to_job_step
        self._after_report = after_report
        self.cancelled = False

    def progress(self, state: Progress) -> None:
        step, total, message, extra = self._to_job_step(state)
        try:
            self._ctx.report(step, total, message, **extra)
        except JobCancelled:
            self.cancelled = True  # the engine stops at its next cancel check
        if self._after_report is not None:
            self._after_report()

    def is_cancelled(self) -> bool:
        return self.cancelled

    def preview(self, shown: Preview) -> None:
        self._ctx.preview(
            step=shown.step,
            total=shown.total,
            image=shown.image,
            width=shown.width,
            height=shown.height,
            dataUrl="data:image/webp;base64," + base64.b64encode(shown.webp).decode("ascii"),
        )
