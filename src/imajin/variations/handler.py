"""The ``variation`` job: one master per family, then its derivatives, family by family."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PIL import Image

from imajin.config.imaging import ImagingSettings
from imajin.engine.request import GenerationRequest
from imajin.errors import ImajinError
from imajin.events.outbox import record_event
from imajin.imaging.files import StoredImage, delete_family, write_family
from imajin.imaging.planning import plan_generation, safe_zone_prompt_hint
from imajin.imaging.render import RenderedImage, render_family
from imajin.jobs.generation import JobStep, generate_in_job
from imajin.jobs.handlers import JobCancelled, JobContext
from imajin.storage.base import FileStorage
from imajin.store.tables import utcnow
from imajin.variations.errors import VariationFailed
from imajin.variations.events import VariationEvent
from imajin.variations.repository import Variation, VariationRepository
from imajin.variations.schemas import VariationStatus
from imajin.variations.service import VariationService

if TYPE_CHECKING:  # the engine imports torch; the platform builds it on the first job
    from imajin.engine.engine import Engine
    from imajin.engine.generate import Progress

Renderer = Callable[[Image.Image, str], list[RenderedImage]]
"""(generated image, family name) → the family's master and derivatives, encoded."""


@dataclass
class _Outcome:
    completed: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    generation_ms: int = 0


class VariationRenderer:
    """The job handler. Collaborators come in through the constructor (tests inject faults
    through ``renderer``)."""

    def __init__(
        self,
        *,
        repository: VariationRepository,
        service: VariationService,
        engine: Callable[[], Engine],
        images: FileStorage,
        imaging: ImagingSettings,
        renderer: Renderer | None = None,
    ) -> None:
        self._repository = repository
        self._service = service
        self._engine = engine  # a provider: the engine (and torch) load on the first job
        self._images = images
        self._render: Renderer = renderer or (
            lambda image, family: render_family(image, family, settings=imaging)
        )

    def __call__(self, ctx: JobContext) -> dict[str, Any]:
        variation = self._repository.get(str(ctx.job.params["variationId"]))
        self._start(ctx, variation)
        outcome = _Outcome()
        try:
            for index, family in enumerate(variation.families):
                self._family(ctx, variation, index, family, outcome)
        except JobCancelled:
            self._finish_cancelled(variation, outcome)
            raise
        return self._finish(ctx, variation, outcome)

    def _start(self, ctx: JobContext, variation: Variation) -> None:
        with self._repository.database.session() as session:
            self._repository.set_status(session, variation.id, VariationStatus.GENERATING)
            record_event(
                session,
                VariationEvent.STARTED,
                {
                    "variationId": variation.id,
                    "variationName": variation.name,
                    "familyCount": len(variation.families),
                    "startedAt": utcnow().isoformat(),
                },
                job_id=ctx.job.id,
                subject=variation.id,
            )

    def _family(
        self, ctx: JobContext, variation: Variation, index: int, family: str, outcome: _Outcome
    ) -> None:
        ctx.check_cancelled()  # between families
        started = time.perf_counter()
        try:
            image = self._generate(ctx, variation, index, family)
            stored = write_family(
                self._images, variation=variation.name, images=self._render(image, family)
            )
            self._record_family(ctx, variation, index, family, stored, elapsed_ms=_ms(started))
        except JobCancelled:
            delete_family(self._images, variation=variation.name, family_name=family)
            raise
        except Exception as exc:
            # This family failed: none of its files stay; the others go on.
            delete_family(self._images, variation=variation.name, family_name=family)
            if isinstance(exc, ImajinError):
                message = exc.message
                ctx.logger.warning("family %s of %s failed: %s", family, variation.name, message)
            else:  # not a refusal but a fault: keep the traceback for whoever fixes it
                message = f"{type(exc).__name__}: {exc}"
                ctx.logger.exception("family %s of %s crashed", family, variation.name)
            outcome.errors.append({"familyName": family, "error": message})
            return
        outcome.completed.append(family)
        outcome.generation_ms += _ms(started)

    def _generate(
        self, ctx: JobContext, variation: Variation, index: int, family: str
    ) -> Image.Image:
        params = variation.generation_params
        engine = self._engine()
        spec = engine.registry.resolve(params["model"], allow_paths=True)
        plan = plan_generation(family, native=spec.native)
        steps = int(params["inferenceSteps"])
        total = steps * len(variation.families)

        def to_job_step(state: Progress) -> JobStep:
            message = f"{family}: step {state.step}/{state.total}"
            return (
                index * steps + state.step,
                total,
                message,
                {"family": family, "familyIndex": index},
            )

        request = GenerationRequest(
            prompt=f"{params['prompt']}, {safe_zone_prompt_hint()}"[:2000],
            negative_prompt=params["negativePrompt"],
            model=params["model"],
            width=plan.generate.width,
            height=plan.generate.height,
            steps=steps,
            guidance=float(params["guidanceScale"]),
            seed=int(params["seed"]),
        )
        result = generate_in_job(ctx, engine, request, to_job_step=to_job_step)
        image: Image.Image = result.images[0].image
        return image

    def _record_family(
        self,
        ctx: JobContext,
        variation: Variation,
        index: int,
        family: str,
        stored: Sequence[StoredImage],
        *,
        elapsed_ms: int,
    ) -> None:
        # Fails (foreign key) if the variation was deleted meanwhile; the caller then
        # removes the family's files.
        with self._repository.database.session() as session:
            self._repository.replace_family(session, variation.id, family, stored)
            record_event(
                session,
                VariationEvent.FAMILY_COMPLETED,
                {
                    "variationId": variation.id,
                    "familyName": family,
                    "familyIndex": index,
                    "generationTimeMs": elapsed_ms,
                },
                job_id=ctx.job.id,
                subject=variation.id,
            )

    def _finish(self, ctx: JobContext, variation: Variation, outcome: _Outcome) -> dict[str, Any]:
        now = utcnow().isoformat()
        if not outcome.completed:
            message = "; ".join(f"{e['familyName']}: {e['error']}" for e in outcome.errors)
            with self._repository.database.session() as session:
                self._repository.set_status(
                    session, variation.id, VariationStatus.FAILED, error=message
                )
                record_event(
                    session,
                    VariationEvent.FAILED,
                    {
                        "variationId": variation.id,
                        "errorMessage": message,
                        "failedAt": now,
                    },
                    job_id=ctx.job.id,
                    subject=variation.id,
                )
            raise VariationFailed(f"Every family failed: {message}")

        fresh = self._repository.get(variation.id)
        urls = {
            d.name: self._service.public_url(fresh.name, d.name, d.content_hash)
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
                "totalGenerationTimeMs": outcome.generation_ms,
                "publicUrls": urls,
                "completedAt": now,
            }
        error = "; ".join(f"{e['familyName']}: {e['error']}" for e in outcome.errors) or None

        def final(session: Any) -> None:  # commits with the job's success
            self._repository.set_status(session, variation.id, status, error=error)
            record_event(session, event_type, payload, job_id=ctx.job.id, subject=variation.id)

        ctx.on_success(final)
        return {
            "variationId": variation.id,
            "status": status.value,
            "familiesCompleted": outcome.completed,
            "publicUrls": urls,
        }

    def _finish_cancelled(self, variation: Variation, outcome: _Outcome) -> None:
        status = VariationStatus.PARTIAL if outcome.completed else VariationStatus.FAILED
        with self._repository.database.session() as session:
            self._repository.set_status(session, variation.id, status, error="cancelled")


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
