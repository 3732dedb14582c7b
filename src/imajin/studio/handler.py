"""The studio's job kinds: ``batch_item`` (one row of a set) and ``generate`` (one request).

Both run the job's stored generation request through the engine, feed its
per-step progress to the job (which honours cancel), and write each image with
its sidecar and thumbnail (:func:`imajin.studio.outputs.write_output`). Their
results carry timings, so the benchmark can tell denoising from everything else.
A ``generate`` job that ends without success removes the folder reserved for it
at submit, when nothing is in it (:meth:`StudioRenderer.settle_generate`).

Queued jobs of both kinds that share a shape (:func:`shape_key`: model, size,
steps, sampler, guidance, LoRAs) run together (:meth:`StudioRenderer.run_batch`):
one batched engine call, then each job saves its own images. Every result
records ``batchSize``: the most images denoised in one call with this job's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from imajin.engine.request import GenerationRequest
from imajin.jobs.generation import JobGeneration, JobStep, generate_batch_in_jobs, generate_in_job
from imajin.jobs.handlers import JobContext, Outcome
from imajin.jobs.models import Job
from imajin.storage.base import FileStorage
from imajin.studio.outputs import StoredOutput, release_folder, remove_output, write_output
from imajin.studio.params import BATCH_ITEM_JOB, BatchItemParams, GenerateParams


class UnfinishedInGroup(Protocol):
    """``JobRepository.unfinished_in_group``: a group's other queued or running jobs."""

    def __call__(self, session: Session, group_id: str, *, excluding: str) -> int: ...


if TYPE_CHECKING:  # the engine imports torch; the first job pays for it, not start-up
    from imajin.engine.engine import Engine, GenerationResult
    from imajin.engine.generate import Progress


@dataclass
class StepClock:
    """Time spent inside the denoising loop, from the engine's per-step callbacks.

    The gap between two step callbacks of one image is one denoising step; the
    time our own callback spends (recording progress) is left out. The first
    step of each image has no callback before it, so the total is scaled by
    steps / gaps (e.g. 20 / 19).
    """

    steps: int = 0
    gaps: int = 0
    gap_s: float = 0.0
    callback_s: float = 0.0
    _image: int = -1
    _last: float | None = None
    _called: float = 0.0

    def step_ended(self, progress: Progress) -> None:
        now = self._called = time.perf_counter()
        if self._last is not None and progress.image == self._image:
            self.gaps += 1
            self.gap_s += now - self._last
        self._image = progress.image
        self.steps += 1

    def callback_done(self) -> None:
        self._last = time.perf_counter()
        self.callback_s += self._last - self._called

    @property
    def denoise_s(self) -> float:
        return self.gap_s * self.steps / self.gaps if self.gaps else 0.0


class StudioRenderer:
    """Runs studio jobs. ``engine`` is a provider: torch loads with the first job."""

    def __init__(
        self,
        *,
        engine: Callable[[], Engine],
        outputs: FileStorage,
        thumbnail_px: int,
        unfinished_in_batch: UnfinishedInGroup | None = None,
    ) -> None:
        self._engine = engine
        self._outputs = outputs
        self._thumbnail_px = thumbnail_px
        self._unfinished_in_batch = unfinished_in_batch

    def batch_item(self, ctx: JobContext) -> dict[str, Any]:
        params = BatchItemParams.model_validate(ctx.job.params)
        started = time.perf_counter()
        result, clock = self._generate(ctx, params.request, label=params.item, index=params.index)
        return self._save_batch_item(params, result, clock, started=started)

    def _save_batch_item(
        self, params: BatchItemParams, result: GenerationResult, clock: StepClock, *, started: float
    ) -> dict[str, Any]:
        generated = result.images[0]
        saving = time.perf_counter()
        stored = write_output(
            self._outputs,
            params.output,
            image=generated.image,
            parameters=generated.parameters,
            studio={
                "batch_id": params.batch_id,
                "set_name": params.set_name,
                "user_theme": params.user_theme,
                "index": params.index,
                "item": params.item,
                "values": params.values,
            },
            embed=self._engine().settings.embed_metadata,
            quality=params.quality,
            thumbnail_px=self._thumbnail_px,
        )
        done = time.perf_counter()
        return {
            **stored.as_result(),
            "seed": generated.parameters.seed,
            "batchSize": result.batch_size,
            "timings": _timings(result, clock, save_s=done - saving, handler_s=done - started),
        }

    def generate(self, ctx: JobContext) -> dict[str, Any]:
        params = GenerateParams.model_validate(ctx.job.params)
        started = time.perf_counter()
        result, clock = self._generate(ctx, params.request, label="generate", index=None)
        return self._save_generate(ctx, params, result, clock, started=started)

    def _save_generate(
        self,
        ctx: JobContext,
        params: GenerateParams,
        result: GenerationResult,
        clock: StepClock,
        *,
        started: float,
    ) -> dict[str, Any]:
        saving = time.perf_counter()
        written: list[StoredOutput] = []
        try:
            for generated in result.images:
                name = f"{params.output_dir}/{params.stamp}_{generated.parameters.seed}"
                written.append(
                    write_output(
                        self._outputs,
                        f"{name}.{params.format}",
                        image=generated.image,
                        parameters=generated.parameters,
                        studio={"job_id": ctx.job.id},
                        embed=self._engine().settings.embed_metadata,
                        quality=params.quality,
                        thumbnail_px=self._thumbnail_px,
                    )
                )
        except BaseException:
            for stored in written:  # all of the request's images or none
                remove_output(self._outputs, stored)
            raise
        done = time.perf_counter()
        return {
            "images": [
                {**stored.as_result(), "seed": generated.parameters.seed}
                for stored, generated in zip(written, result.images, strict=True)
            ],
            "batchSize": result.batch_size,
            "timings": _timings(result, clock, save_s=done - saving, handler_s=done - started),
        }

    def run_batch(self, contexts: Sequence[JobContext]) -> list[Outcome]:
        """Run studio jobs of one shape together: one batched engine call, each job's images
        saved as its handler saves them. One job's bad params, engine error, cancel or
        failed save is its own outcome; its neighbours finish."""
        started = time.perf_counter()
        outcomes: dict[int, Outcome] = {}
        prepared: list[tuple[int, BatchItemParams | GenerateParams, StepClock]] = []
        generations: list[JobGeneration] = []
        for index, ctx in enumerate(contexts):
            try:
                params = _studio_params(ctx.job)
            except Exception as error:
                outcomes[index] = error
                continue
            clock = StepClock()
            if isinstance(params, BatchItemParams):
                label, where = params.item, params.index
            else:
                label, where = "generate", None
            prepared.append((index, params, clock))
            generations.append(
                JobGeneration(
                    ctx=ctx,
                    request=params.request,
                    to_job_step=_job_step(clock, label=label, index=where),
                    after_report=clock.callback_done,
                )
            )
        results = generate_batch_in_jobs(self._engine(), generations) if generations else []
        for (index, params, clock), result in zip(prepared, results, strict=True):
            if isinstance(result, Exception):
                outcomes[index] = result
                continue
            try:
                if isinstance(params, BatchItemParams):
                    outcomes[index] = self._save_batch_item(params, result, clock, started=started)
                else:
                    outcomes[index] = self._save_generate(
                        contexts[index], params, result, clock, started=started
                    )
            except Exception as error:
                outcomes[index] = error
        return [outcomes[index] for index in range(len(contexts))]

    def batch_limit(self, job: Job) -> int:
        """Jobs that may run with ``job``: its model's ``engine.max_batch``."""
        engine = self._engine()
        spec = engine.registry.resolve(_studio_params(job).request.model, allow_paths=True)
        return engine.max_batch_for(spec)

    def settle_generate(self, _session: Session, job: Job) -> None:
        """The ``generate`` kind's settle hook: a failed or cancelled job (however it ended)
        leaves no empty output folder behind. Its images are all-or-none, so a failed job's
        folder is empty unless someone put files there; then it stays."""
        release_folder(self._outputs, GenerateParams.model_validate(job.params).output_dir)

    def settle_batch_item(self, session: Session, job: Job) -> None:
        """The ``batch_item`` kind's settle hook: when the batch's last unfinished item fails
        or is cancelled and the batch wrote nothing, its folder goes too.

        Two items ending at the same moment may each still see the other unfinished; then
        the folder stays (the safe side: nothing is removed that might be written to).
        """
        params = BatchItemParams.model_validate(job.params)
        if self._unfinished_in_batch is None or job.group_id is None:
            return
        if self._unfinished_in_batch(session, job.group_id, excluding=job.id) == 0:
            release_folder(self._outputs, str(PurePosixPath(params.output).parent))

    def _generate(
        self, ctx: JobContext, request: GenerationRequest, *, label: str, index: int | None
    ) -> tuple[GenerationResult, StepClock]:
        clock = StepClock()
        result = generate_in_job(
            ctx,
            self._engine(),
            request,
            to_job_step=_job_step(clock, label=label, index=index),
            after_report=clock.callback_done,
        )
        return result, clock


def shape_key(job: Job) -> Hashable:
    """What a studio job's batch shares: model, size, steps, sampler, guidance and LoRAs.

    Taken from the stored request, so unset fields compare as unset: a job that names
    its model's native size does not batch with one that leaves it to the default (the
    engine would put them in one call; missing that only costs throughput).
    """
    request = _studio_params(job).request
    loras = tuple((lora.id, lora.path, lora.weight) for lora in request.loras)
    return (
        request.model,
        request.width,
        request.height,
        request.steps,
        request.scheduler,
        request.guidance,
        loras,
    )


def _studio_params(job: Job) -> BatchItemParams | GenerateParams:
    if job.kind == BATCH_ITEM_JOB:
        return BatchItemParams.model_validate(job.params)
    return GenerateParams.model_validate(job.params)


def _job_step(clock: StepClock, *, label: str, index: int | None) -> Callable[[Progress], JobStep]:
    where = {"index": index, "item": label} if index is not None else {}

    def to_job_step(state: Progress) -> JobStep:
        clock.step_ended(state)
        return state.step, state.total, f"{label}: step {state.step}/{state.total}", where

    return to_job_step


def _timings(
    result: GenerationResult, clock: StepClock, *, save_s: float, handler_s: float
) -> dict[str, float]:
    return {
        "generateS": round(result.seconds, 6),
        "denoiseS": round(clock.denoise_s, 6),
        "progressS": round(clock.callback_s, 6),
        "saveS": round(save_s, 6),
        "handlerS": round(handler_s, 6),
    }
