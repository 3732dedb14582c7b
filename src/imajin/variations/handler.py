"""The ``variation`` job: one master per family, then its derivatives, family by family.

The engine generates the families one after another; each generated image goes to
the shared :class:`~imajin.imaging.render.DerivativePool` at once, so family N's
derivatives are encoded on the CPU while the engine generates family N+1. Files
and rows are written in this thread, in family order, as each family's encodes
end; the job waits for the last of them before it settles.

Its collaborators are narrow: the variation repository's one-transaction writes
(a row and its event), the model registry, an engine provider, the image store
and the URL builder — never the service that queued the job. A job that ends
outside the handler (the reaper's ``worker_lost``, a cancel, an exception that
escapes) is settled by :meth:`VariationRenderer.settle`, the kind's settle hook.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PIL import Image
from sqlalchemy.orm import Session

from imajin.config.imaging import ImagingSettings
from imajin.engine.registry import ModelRegistry
from imajin.engine.request import GenerationRequest
from imajin.errors import ImajinError
from imajin.imaging.files import StoredImage, delete_family, write_family
from imajin.imaging.planning import plan_generation, safe_zone_prompt_hint
from imajin.imaging.render import DerivativePool, RenderedImage
from imajin.imaging.sizes import FAMILIES
from imajin.jobs.generation import JobStep, generate_in_job
from imajin.jobs.handlers import JobCancelled, JobContext
from imajin.jobs.models import Job, JobStatus
from imajin.storage.base import FileStorage
from imajin.store.tables import utcnow
from imajin.variations.errors import VariationFailed
from imajin.variations.events import VariationEvent
from imajin.variations.params import VariationJobParams
from imajin.variations.repository import Variation, VariationRepository
from imajin.variations.schemas import GenerationParams, VariationStatus
from imajin.variations.urls import VariationUrls

if TYPE_CHECKING:  # the engine imports torch; the platform builds it on the first job
    from imajin.engine.engine import Engine
    from imajin.engine.generate import Progress

Renderer = Callable[[Image.Image, str], list[RenderedImage]]
"""(generated image, family name) → the family's master and derivatives, encoded."""


@dataclass
class _Outcome:
    completed: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)


@dataclass
class _Rendering:
    """A generated family whose master and derivatives are being encoded."""

    index: int
    family: str
    started: float
    images: Future[list[RenderedImage]]
    ended: float | None = None

    def __post_init__(self) -> None:
        self.images.add_done_callback(self._end)

    def _end(self, _: Future[list[RenderedImage]]) -> None:
        self.ended = time.perf_counter()


@dataclass(frozen=True)
class _Run:
    """One job's variation, with its parameters validated and its model resolved once."""

    ctx: JobContext
    variation: Variation
    generation: GenerationParams
    native: int


class VariationRenderer:
    """The job handler and its settle hook. Collaborators come in through the constructor
    (tests inject faults through ``renderer``).

    ``pool`` encodes every job's families (one is made from ``imaging.threads`` when
    none is given). ``overlap=False`` stores each family before generating the next,
    as before the overlap: the baseline of ``benchmarks.variations.bench_overlap``.
    """

    def __init__(
        self,
        *,
        repository: VariationRepository,
        models: ModelRegistry,
        engine: Callable[[], Engine],
        images: FileStorage,
        urls: VariationUrls,
        imaging: ImagingSettings,
        renderer: Renderer | None = None,
        pool: DerivativePool | None = None,
        overlap: bool = True,
    ) -> None:
        self._repository = repository
        self._models = models
        self._engine = engine  # a provider: the engine (and torch) load on the first job
        self._images = images
        self._urls = urls
        self._imaging = imaging
        self._pool = pool or DerivativePool(threads=imaging.threads)
        self._renderer = renderer
        self._overlap = overlap
        # An injected renderer blocks until its images are done, so it runs on a thread
        # of its own, never on the pool's (where waiting for the pool could deadlock).
        self._callers = (
            None
            if renderer is None
            else ThreadPoolExecutor(len(FAMILIES), thread_name_prefix="imajin-variation")
        )

    def _render(self, image: Image.Image, family: str) -> list[RenderedImage]:
        """A family's master and derivatives, encoded on the pool (never by an injected
        renderer, which may call this); blocks until they are."""
        return self._pool.submit_family(image, family, settings=self._imaging).result()

    def _submit(self, image: Image.Image, family: str) -> Future[list[RenderedImage]]:
        if self._renderer is None or self._callers is None:
            return self._pool.submit_family(image, family, settings=self._imaging)
        return self._callers.submit(self._renderer, image, family)

    def __call__(self, ctx: JobContext) -> dict[str, Any]:
        params = VariationJobParams.model_validate(ctx.job.params)
        variation = self._repository.get(params.variation_id)
        generation = GenerationParams.model_validate(variation.generation_params)
        spec = self._models.resolve(generation.model, allow_paths=True)
        run = _Run(ctx=ctx, variation=variation, generation=generation, native=spec.native)
        self._repository.change(
            variation.id,
            VariationStatus.GENERATING,
            job_id=ctx.job.id,
            event_type=VariationEvent.STARTED,
            event={
                "variationId": variation.id,
                "variationName": variation.name,
                "familyCount": len(variation.families),
                "startedAt": utcnow().isoformat(),
            },
        )
        outcome = _Outcome()
        rendering: list[_Rendering] = []
        try:
            for index, family in enumerate(variation.families):
                self._store_ready(run, rendering, outcome, wait=not self._overlap)
                started = self._family(run, index, family, outcome)
                if started is not None:
                    rendering.append(started)
        finally:
            # Also on a cancel (settled by settle()): a family generated before it is
            # stored, as it was when each family was stored before the next began.
            self._store_ready(run, rendering, outcome, wait=True)
        return self._finish(run, outcome)

    def settle(self, session: Session, job: Job) -> None:
        """The kind's settle hook: a job that ended failed or cancelled outside the handler
        leaves its variation ``partial`` (some families stored) or ``failed``, never
        ``generating``. Runs in the transaction of the job's final state."""
        params = VariationJobParams.model_validate(job.params)
        variation = self._repository.waiting_on(session, params.variation_id, job.id)
        if variation is None:
            return  # deleted, regenerated meanwhile, or the handler settled it
        stored = {d.family for d in variation.derivatives}
        completed = [family for family in variation.families if family in stored]
        status = VariationStatus.PARTIAL if completed else VariationStatus.FAILED
        if job.status == JobStatus.CANCELLED:
            self._repository.change_in(
                session, variation.id, status, job_id=job.id, error="cancelled"
            )
            return
        message = job.error.message if job.error is not None else f"job {job.status}"
        if completed:
            missing = [family for family in variation.families if family not in stored]
            errors = [{"familyName": family, "error": message} for family in missing]
            event_type, event = (
                VariationEvent.PARTIAL,
                {
                    "variationId": variation.id,
                    "familiesCompleted": completed,
                    "familiesFailed": missing,
                    "errors": errors,
                },
            )
        else:
            event_type, event = (
                VariationEvent.FAILED,
                {
                    "variationId": variation.id,
                    "errorMessage": message,
                    "failedAt": utcnow().isoformat(),
                },
            )
        self._repository.change_in(
            session,
            variation.id,
            status,
            job_id=job.id,
            event_type=event_type,
            event=event,
            error=message,
        )

    def _family(self, run: _Run, index: int, family: str, outcome: _Outcome) -> _Rendering | None:
        """Generate ``family`` and hand its image to the pool; None if it failed."""
        ctx, variation = run.ctx, run.variation
        ctx.check_cancelled()  # between families
        started = time.perf_counter()
        try:
            image = self._generate(run, index, family)
            return _Rendering(index, family, started, self._submit(image, family))
        except JobCancelled:
            delete_family(self._images, variation=variation.name, family_name=family)
            raise
        except Exception as exc:
            self._failed(run, family, exc, outcome)
            return None

    def _store_ready(
        self, run: _Run, rendering: list[_Rendering], outcome: _Outcome, *, wait: bool
    ) -> None:
        """Write and record the families whose encodes ended, in family order; with
        ``wait``, every family, waiting for each."""
        while rendering and (wait or rendering[0].images.done()):
            self._store(run, rendering.pop(0), outcome)

    def _store(self, run: _Run, rendering: _Rendering, outcome: _Outcome) -> None:
        family = rendering.family
        try:
            images = rendering.images.result()
            stored = write_family(self._images, variation=run.variation.name, images=images)
            ended = rendering.ended or time.perf_counter()
            elapsed_ms = round((ended - rendering.started) * 1000)
            self._record_family(run, rendering.index, family, stored, elapsed_ms=elapsed_ms)
        except Exception as exc:
            self._failed(run, family, exc, outcome)
            return
        outcome.completed.append(family)

    def _failed(self, run: _Run, family: str, exc: Exception, outcome: _Outcome) -> None:
        # This family failed: none of its files stay; the others go on.
        ctx, variation = run.ctx, run.variation
        delete_family(self._images, variation=variation.name, family_name=family)
        if isinstance(exc, ImajinError):
            message = exc.message
            ctx.logger.warning("family %s of %s failed: %s", family, variation.name, message)
        else:  # not a refusal but a fault: keep the traceback for whoever fixes it
            message = f"{type(exc).__name__}: {exc}"
            ctx.logger.error("family %s of %s crashed", family, variation.name, exc_info=exc)
        outcome.errors.append({"familyName": family, "error": message})

    def _generate(self, run: _Run, index: int, family: str) -> Image.Image:
        generation = run.generation
        plan = plan_generation(family, native=run.native)
        steps = generation.inference_steps
        total = steps * len(run.variation.families)

        def to_job_step(state: Progress) -> JobStep:
            message = f"{family}: step {state.step}/{state.total}"
            return (
                index * steps + state.step,
                total,
                message,
                {"family": family, "familyIndex": index},
            )

        request = GenerationRequest(
            prompt=f"{generation.prompt}, {safe_zone_prompt_hint()}"[:2000],
            negative_prompt=generation.negative_prompt,
            model=generation.model,
            width=plan.generate.width,
            height=plan.generate.height,
            steps=steps,
            guidance=generation.guidance_scale,
            seed=generation.seed,
        )
        result = generate_in_job(run.ctx, self._engine(), request, to_job_step=to_job_step)
        image: Image.Image = result.images[0].image
        return image

    def _record_family(
        self,
        run: _Run,
        index: int,
        family: str,
        stored: Sequence[StoredImage],
        *,
        elapsed_ms: int,
    ) -> None:
        self._repository.store_family(
            run.variation.id,
            family,
            stored,
            job_id=run.ctx.job.id,
            event={
                "variationId": run.variation.id,
                "familyName": family,
                "familyIndex": index,
                "generationTimeMs": elapsed_ms,
            },
        )

    def _finish(self, run: _Run, outcome: _Outcome) -> dict[str, Any]:
        ctx, variation = run.ctx, run.variation
        now = utcnow().isoformat()
        # A family that failed generating is reported before one rendered earlier that
        # failed storing: put both lists back in the variation's order.
        order = {family: index for index, family in enumerate(variation.families)}
        outcome.completed.sort(key=order.__getitem__)
        outcome.errors.sort(key=lambda error: order[error["familyName"]])
        if not outcome.completed:
            message = "; ".join(f"{e['familyName']}: {e['error']}" for e in outcome.errors)
            self._repository.change(
                variation.id,
                VariationStatus.FAILED,
                job_id=ctx.job.id,
                event_type=VariationEvent.FAILED,
                event={"variationId": variation.id, "errorMessage": message, "failedAt": now},
                error=message,
            )
            raise VariationFailed(f"Every family failed: {message}")

        fresh = self._repository.get(variation.id)
        sign = self._urls.signing()  # once for the event, not once per URL
        urls = {
            d.name: self._urls.public_url(fresh.name, d.name, d.content_hash, sign=sign)
            for d in fresh.derivatives
            if not d.is_master
        }
        if outcome.errors:
            status, event_type = VariationStatus.PARTIAL, VariationEvent.PARTIAL
            payload: dict[str, Any] = {
                "variationId": variation.id,
                "familiesCompleted": outcome.completed,
                "familiesFailed": [e["familyName"] for e in outcome.errors],
                "errors": outcome.errors,
            }
        else:
            status, event_type = VariationStatus.COMPLETE, VariationEvent.COMPLETED
            payload = {
                "variationId": variation.id,
                "variationName": variation.name,
                "familiesCompleted": len(outcome.completed),
                # Wall time: with the overlap, the families' own times add up to more.
                "totalGenerationTimeMs": _ms(outcome.started),
                "publicUrls": urls,
                "completedAt": now,
            }
        error = "; ".join(f"{e['familyName']}: {e['error']}" for e in outcome.errors) or None

        def final(session: Session) -> None:  # commits with the job's success
            self._repository.change_in(
                session,
                variation.id,
                status,
                job_id=ctx.job.id,
                event_type=event_type,
                event=payload,
                error=error,
            )

        ctx.on_success(final)
        return {
            "variationId": variation.id,
            "status": status.value,
            "familiesCompleted": outcome.completed,
            "publicUrls": urls,
        }


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
