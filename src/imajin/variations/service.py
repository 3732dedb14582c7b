"""Create, regenerate, look up and delete variations; build their public URLs."""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from imajin.config.variations import VariationsSettings
from imajin.engine.registry import ModelRegistry
from imajin.errors import NotFound
from imajin.events.outbox import record_event
from imajin.imaging.sizes import FAMILIES
from imajin.jobs.errors import JobFinished
from imajin.jobs.models import Job, JobSpec
from imajin.jobs.routes import route_for_model
from imajin.jobs.service import JobService
from imajin.storage.base import FileStorage
from imajin.store.tables import utcnow
from imajin.variations.errors import UnknownVariationModel, VariationConflict
from imajin.variations.events import VariationEvent
from imajin.variations.params import JOB_KIND, QUEUE, VariationJobParams
from imajin.variations.repository import Variation, VariationRepository
from imajin.variations.schemas import (
    DerivativePublic,
    DerivativeSize,
    FamilyPublic,
    GenerationParams,
    VariationCreate,
    VariationPage,
    VariationPublic,
    VariationStatus,
)
from imajin.variations.urls import VariationUrls, version

__all__ = ["JOB_KIND", "QUEUE", "VariationService", "version"]

NegativePrompt = Callable[[str, str | None], str]
"""(model style, the caller's negative prompt or None) → the negative prompt to use."""

PromptCheck = Callable[[str, str], None]
"""(text, field) → None, or raises PolicyViolation (the safety layer's hard block)."""


@dataclass(frozen=True)
class ServedImage:
    """A derivative file to serve, with the headers a CDN caches it by."""

    path: Path
    etag: str
    cache_control: str


class VariationService:
    """The S3 variations service. Rendering happens in the ``variation`` job handler.

    ``urls`` signs every image URL it hands out while auth is on (SPEC §3.2).
    """

    def __init__(
        self,
        *,
        repository: VariationRepository,
        jobs: JobService,
        models: ModelRegistry,
        images: FileStorage,
        settings: VariationsSettings,
        negative_prompt: NegativePrompt,
        check_prompt: PromptCheck,
        urls: VariationUrls | None = None,
    ) -> None:
        self.repository = repository
        self.urls = urls or VariationUrls(settings.public_base_url)
        self._jobs = jobs
        self._models = models
        self._images = images
        self._settings = settings
        self._negative_prompt = negative_prompt
        self._check_prompt = check_prompt

    def create(self, body: VariationCreate, *, allow_paths: bool = False) -> Variation:
        """Validate, store and queue a variation (one transaction with its job and event).

        Args:
            body: The request.
            allow_paths: Whether ``generation.model`` may be a local path (the CLI);
                over HTTP only a style or a model id (SPEC §2.1).

        Raises:
            PolicyViolation: the prompt is hard-blocked (422).
            InvalidInput: unknown model (422).
            Conflict: the name is taken (409).
            Overloaded: the variations queue is full (429).
        """
        generation = body.generation
        self._check_prompt(generation.prompt, "generation.prompt")
        try:
            spec = self._models.resolve(generation.model, allow_paths=allow_paths)
        except NotFound as exc:
            raise UnknownVariationModel(exc.message, field="generation.model") from None
        if self.repository.name_taken(body.name):
            raise VariationConflict(
                f"A variation named {body.name!r} already exists.", field="name"
            )
        params = GenerationParams(
            prompt=generation.prompt,
            negative_prompt=self._negative_prompt(spec.style, generation.negative_prompt),
            model=spec.id,
            seed=generation.seed if generation.seed is not None else _random_seed(),
            inference_steps=generation.inference_steps or spec.steps,
            guidance_scale=generation.guidance_scale or max(spec.guidance, 1.0),
        ).model_dump(by_alias=True)  # stored camelCase, as the API shows it
        variation_id = uuid.uuid4().hex

        def write(session: Session, jobs: list[Job]) -> None:
            self.repository.insert(
                session,
                id=variation_id,
                name=body.name,
                category=body.category,
                params=params,
                families=body.families,
                job_id=jobs[0].id,
                event_type=VariationEvent.QUEUED,
                event=_queued_event(variation_id, body.name, len(body.families)),
            )

        try:
            self._jobs.submit(self._job(variation_id, spec.id), with_jobs=write)
        except IntegrityError:  # a concurrent create took the name between check and insert
            raise VariationConflict(
                f"A variation named {body.name!r} already exists.", field="name"
            ) from None
        return self.repository.get(variation_id)

    def regenerate(self, variation_id: str, *, new_seed: bool) -> Variation:
        """Queue the variation again with the same parameters (a new seed if asked).

        Raises:
            Conflict: it is still queued or generating.
        """
        variation = self.repository.get(variation_id)
        if variation.status in (VariationStatus.QUEUED, VariationStatus.GENERATING):
            raise VariationConflict(
                f"Variation {variation.name} is still {variation.status}; wait for "
                "it to finish or delete it.",
                field="status",
            )
        generation = GenerationParams.model_validate(variation.generation_params)
        if new_seed:
            generation = generation.model_copy(update={"seed": _random_seed()})
        params = generation.model_dump(by_alias=True)

        def write(session: Session, jobs: list[Job]) -> None:
            self.repository.requeue(session, variation.id, params=params, job_id=jobs[0].id)
            record_event(
                session,
                VariationEvent.QUEUED,
                _queued_event(variation.id, variation.name, len(variation.families)),
                job_id=jobs[0].id,
                subject=variation.id,
            )

        self._jobs.submit(self._job(variation.id, generation.model), with_jobs=write)
        return self.repository.get(variation.id)

    def delete(self, variation_id: str) -> None:
        """Cancel its job if active, then remove its rows and files."""
        variation = self.repository.get(variation_id)
        if variation.job_id and variation.status in (
            VariationStatus.QUEUED,
            VariationStatus.GENERATING,
        ):
            with contextlib.suppress(JobFinished):  # it finished meanwhile
                self._jobs.cancel(variation.job_id)
        self.repository.delete(variation_id)
        self._images.delete_tree(variation.name)

    def get(self, variation_id: str) -> Variation:
        """Raises NotFound (404) for an unknown id."""
        return self.repository.get(variation_id)

    def by_name(self, name: str) -> Variation:
        """Raises NotFound (404) for an unknown name."""
        return self.repository.by_name(name)

    def page(self, *, category: str | None, limit: int, offset: int) -> VariationPage:
        """A page of variations as the API shows them, and how many match."""
        items, total = self.repository.page(category=category, limit=limit, offset=offset)
        return VariationPage(
            items=[self.public(v) for v in items], total=total, limit=limit, offset=offset
        )

    @staticmethod
    def families() -> list[FamilyPublic]:
        """The size matrix (SPEC §3.1): each family with its master and derivative sizes.

        The master itself is not served unless a derivative has its size, so it is
        listed apart from the derivatives."""
        return [
            FamilyPublic(
                name=spec.name,
                ratio=spec.ratio,
                master_width=spec.master.width,
                master_height=spec.master.height,
                derivatives=[
                    DerivativeSize(name=d.name, width=d.size.width, height=d.size.height)
                    for d in spec.derivatives
                ],
            )
            for spec in FAMILIES
        ]

    def served(
        self, variation_name: str, derivative_name: str, *, version_asked: str | None
    ) -> ServedImage:
        """The file behind a derivative URL and how long it may be cached.

        A URL whose ``?v=`` matches the content is immutable; any other may change
        on regenerate, so it is cached briefly and then revalidated.

        Raises:
            NotFound: no such variation, or no such derivative of it (404).
        """
        derivative = self.repository.served(variation_name, derivative_name)
        path = self._images.path(derivative.path)  # confined to the images root again
        if version_asked is not None and version_asked == version(derivative.content_hash):
            cache = "public, max-age=31536000, immutable"
        else:
            cache = f"public, max-age={self._settings.unversioned_max_age_s}, must-revalidate"
        return ServedImage(path=path, etag=f'"{derivative.content_hash}"', cache_control=cache)

    def public(self, variation: Variation) -> VariationPublic:
        """The API view: derivatives with versioned, CDN-cacheable (and, with auth on,
        signed) URLs."""
        sign = self.urls.signing()
        derivatives = [
            DerivativePublic(
                derivative_name=d.name,
                family=d.family,
                public_url=self.urls.public_url(variation.name, d.name, d.content_hash, sign=sign),
                width=d.width,
                height=d.height,
                file_size=d.bytes,
            )
            for d in variation.derivatives
            if not d.is_master
        ]
        return VariationPublic(
            id=variation.id,
            name=variation.name,
            category=variation.category,
            status=variation.status,
            generation_params=GenerationParams.model_validate(variation.generation_params),
            families=variation.families,
            derivatives=derivatives,
            error=variation.error,
            job_id=variation.job_id,
            created_at=variation.created_at,
            updated_at=variation.updated_at,
            completed_at=variation.completed_at,
        )

    @staticmethod
    def _job(variation_id: str, model_id: str) -> JobSpec:
        return JobSpec(
            kind=JOB_KIND,
            params=VariationJobParams(variation_id=variation_id).model_dump(),
            queue=QUEUE,
            route=route_for_model(model_id),
        )


def _random_seed() -> int:
    return secrets.randbelow(2**32)


def _queued_event(variation_id: str, name: str, family_count: int) -> dict[str, Any]:
    return {
        "variationId": variation_id,
        "variationName": name,
        "familyCount": family_count,
        "queuedAt": utcnow().isoformat(),
    }
