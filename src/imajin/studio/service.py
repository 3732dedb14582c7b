"""Start batches and single generations; describe sets, batches and the studio defaults.

Rendering happens in the job handlers (:mod:`imajin.studio.handler`). Each job
carries its complete generation request, so a worker needs neither the set
file nor the studio defaults — editing either later never changes a queued job.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy.orm import Session

from imajin.config.studio import StudioDefaults, StudioSettings
from imajin.engine.confined import confined_lora, shown
from imajin.engine.families import FAMILIES
from imajin.engine.registry import ModelRegistry
from imajin.engine.request import (
    MAX_PROMPT,
    MAX_SEED,
    GenerationRequest,
    LoraRequest,
    invalid_input_from,
)
from imajin.engine.schedulers import samplers_for
from imajin.engine.spec import ModelSpec
from imajin.errors import NotFound
from imajin.jobs.models import Job, JobSpec, JobStatus
from imajin.jobs.routes import route_for_model
from imajin.jobs.service import JobService
from imajin.storage.base import FileStorage
from imajin.storage.url_signing import UrlSigner
from imajin.store.tables import utcnow
from imajin.studio.catalog import SetCatalog
from imajin.studio.errors import StudioInvalidInput, StudioNotFound
from imajin.studio.outputs import release_folder, reserve_folder, stamp
from imajin.studio.params import BATCH_ITEM_JOB, GENERATE_JOB, BatchItemParams, GenerateParams
from imajin.studio.repository import Batch, BatchRepository
from imajin.studio.runtime_config import StudioConfigStore
from imajin.studio.schemas import (
    BatchCreate,
    BatchCreated,
    BatchDetail,
    BatchPage,
    SetInfo,
    SetSummary,
    StudioConfigPublic,
)
from imajin.studio.sets import CardSet, SetRow, find_lora_file
from imajin.studio.themes import load_themes, random_theme
from imajin.studio.views import (
    batch_item,
    batch_summary,
    first_thumbnails,
    row_index,
    set_info,
    set_summary,
)

__all__ = ["BATCH_ITEM_JOB", "GENERATE_JOB", "StudioService", "check_defaults", "resolve_model"]

PromptCheck = Callable[[str, str], None]
"""(text, field) → None, or raises PolicyViolation (the safety layer's hard block)."""

# The output files the studio serves: its images and their JSON sidecars.
OUTPUT_MEDIA_TYPES = {".png": "image/png", ".webp": "image/webp", ".json": "application/json"}


class OutputFile(NamedTuple):
    path: Path
    media_type: str


class StudioService:
    """The S4 batch studio.

    Args:
        sets: Where sets are found.
        config: The runtime-editable studio defaults.
        batches: Batch rows.
        jobs: The job system (batches are submitted all-or-nothing).
        models: Model registry (checks a model exists without loading it).
        outputs: The outputs root, ``<data_dir>/outputs``.
        settings: The ``studio:`` section.
        check_prompt: The safety layer's hard block.
        lora_dirs: Folders searched for LoRA ids and relative LoRA paths (as the engine does).
        url_signer: Signs output URLs while auth is on (SPEC §3.2).
    """

    def __init__(
        self,
        *,
        sets: SetCatalog,
        config: StudioConfigStore,
        batches: BatchRepository,
        jobs: JobService,
        models: ModelRegistry,
        outputs: FileStorage,
        settings: StudioSettings,
        check_prompt: PromptCheck,
        lora_dirs: Sequence[Path],
        url_signer: UrlSigner,
    ) -> None:
        self.sets = sets
        self.url_signer = url_signer
        self.config = config
        self.batches = batches
        self.outputs = outputs
        self.settings = settings
        self._jobs = jobs
        self._models = models
        self._check_prompt = check_prompt
        self._lora_dirs = list(lora_dirs)
        self._themes: list[str] | None = None

    # -- batches ------------------------------------------------------------------

    def create_batch(self, body: BatchCreate) -> BatchCreated:
        """Queue one job per row of the set, all of them or none.

        Raises:
            NotFound: No such set (404).
            SetInvalid: The set does not load (422, naming row and field).
            PolicyViolation: The theme or a row's prompt is hard-blocked (422).
            InvalidInput: Theme too long, unknown model (422).
            Overloaded: The studio queue lacks room for every row (429); nothing is queued.
        """
        card_set = self.sets.get(body.set_name)
        theme = body.user_theme.strip()
        if len(theme) > self.settings.max_theme_chars:
            raise StudioInvalidInput(
                f"user_theme is {len(theme)} characters; the most is "
                f"{self.settings.max_theme_chars}",
                field="user_theme",
            )
        if theme:
            self._check_prompt(theme, "user_theme")
        defaults = self.config.current()
        # Set files and defaults are the operator's: they may name local paths.
        spec = self._model(card_set.entry.model or defaults.model, allow_paths=True)
        seed = body.seed if body.seed is not None else secrets.randbelow(MAX_SEED + 1)
        requests = [
            self._row_request(card_set, row, theme=theme, spec=spec, defaults=defaults, seed=seed)
            for row in card_set.rows
        ]
        created = utcnow()
        timestamp = stamp(created)
        folder = reserve_folder(self.outputs, card_set.name, timestamp)
        batch = Batch(
            id=uuid.uuid4().hex,
            set_name=card_set.name,
            user_theme=theme,
            output_dir=folder,
            total=len(requests),
            model=spec.id,
            seed=seed,
            params=_batch_params(card_set, defaults),
            created_at=created,
        )
        specs = [
            self._job(
                BATCH_ITEM_JOB,
                BatchItemParams(
                    batch_id=batch.id,
                    set_name=card_set.name,
                    user_theme=theme,
                    index=row.index,
                    item=row.item,
                    values=dict(row.values),
                    output=f"{folder}/{timestamp}_{row.slug}.{defaults.image_format}",
                    quality=defaults.webp_quality,
                    request=request,
                ),
                spec=spec,
                priority=body.priority,
                group_id=batch.id,
            )
            for row, request in zip(card_set.rows, requests, strict=True)
        ]

        def write(session: Session, _jobs: list[Job]) -> None:
            self.batches.insert(session, batch)

        try:
            jobs = self._jobs.submit_many(specs, with_jobs=write)
        except BaseException:
            release_folder(self.outputs, folder)
            raise
        return BatchCreated(
            batch_id=batch.id,
            set_name=batch.set_name,
            user_theme=theme,
            total=batch.total,
            job_ids=[job.id for job in jobs],
            output_dir=folder,
        )

    def _row_request(
        self,
        card_set: CardSet,
        row: SetRow,
        *,
        theme: str,
        spec: ModelSpec,
        defaults: StudioDefaults,
        seed: int,
    ) -> GenerationRequest:
        prompt = card_set.prompt(row, theme)
        if len(prompt) > MAX_PROMPT:
            raise StudioInvalidInput(
                f"with this theme the prompt of row {row.index + 1} ({row.item}) is "
                f"{len(prompt)} characters; the most is {MAX_PROMPT}. Shorten the theme.",
                field="user_theme",
            )
        self._check_prompt(prompt, "user_theme")
        return _request(
            {
                "prompt": prompt,
                "negative_prompt": card_set.negative_prompt(row),
                "model": spec.id,
                "width": card_set.entry.width,
                "height": card_set.entry.height,
                "steps": defaults.steps,
                "guidance": defaults.guidance,
                "scheduler": defaults.scheduler,
                "seed": (seed + row.index) % (MAX_SEED + 1),
                "loras": [lora.model_dump(exclude_none=True) for lora in card_set.entry.loras],
            },
        )

    # -- single generations ------------------------------------------------------------

    def generate(self, body: GenerationRequest, *, allow_paths: bool = False) -> Job:
        """Queue a ``generate`` job; fields the request leaves out take the studio defaults.

        Args:
            body: The request.
            allow_paths: Whether the request may name a local model path or a LoRA
                file anywhere. False (the default) for HTTP: a model id or style, and
                LoRAs inside the LoRA folders only (SPEC §2.1).

        Raises:
            PolicyViolation: The prompt is hard-blocked (422).
            InvalidInput / NotFound: Unknown model or LoRA file (422 / 404).
            Overloaded: The studio queue is full (429).
        """
        self._check_prompt(body.prompt, "prompt")
        given = body.model_dump(exclude_unset=True)
        defaults = self.config.current()
        if "model" in given:
            spec = self._model(given["model"], allow_paths=allow_paths)
        else:
            spec = self._model(defaults.model, allow_paths=True)
        filled = {
            "steps": defaults.steps,
            "guidance": defaults.guidance,
            "scheduler": defaults.scheduler,
            **{key: value for key, value in given.items() if value is not None},
            "model": spec.id,
        }
        request = self._resolve_loras(_request(filled), allow_paths=allow_paths)
        # A full queue is refused before the folder is made: a burst of refusals costs
        # one count each, not a mkdir race over "single_<ts>-N" names.
        self._jobs.check_room(self.settings.queue)
        timestamp = stamp(utcnow())
        folder = reserve_folder(self.outputs, "single", timestamp)
        params = GenerateParams(
            output_dir=folder,
            stamp=timestamp,
            format=defaults.image_format,
            quality=defaults.webp_quality,
            request=request,
        )
        try:
            return self._jobs.submit(self._job(GENERATE_JOB, params, spec=spec))
        except BaseException:
            release_folder(self.outputs, folder)
            raise

    def _resolve_loras(self, request: GenerationRequest, *, allow_paths: bool) -> GenerationRequest:
        """Each LoRA as an absolute file path; the engine checks its architecture at run time."""
        loras = []
        for index, lora in enumerate(request.loras):
            field = f"loras[{index}].{'path' if lora.path is not None else 'id'}"
            if allow_paths:
                found = find_lora_file(lora, base=Path.cwd(), lora_dirs=self._lora_dirs)
            else:
                found = confined_lora(lora, lora_dirs=self._lora_dirs)
            if found is None:
                # Over HTTP: one answer for missing and not allowed, naming no folder.
                raise StudioNotFound(
                    f"{field}: no LoRA {shown(lora.reference)} in the LoRA folders; name one by "
                    "id or by its .safetensors file name there",
                    field=field,
                )
            loras.append(LoraRequest(path=str(found), weight=lora.weight))
        return request.model_copy(update={"loras": loras})

    # -- reading: sets, batches, outputs -------------------------------------------------

    def set_summaries(self) -> list[SetSummary]:
        """Every set the catalogue loads."""
        return [set_summary(card_set) for card_set in self.sets.list()]

    def set_info(self, name: str, *, theme: str | None = None) -> SetInfo:
        """One set with each row's prompt for ``theme`` (default: its example theme).

        Raises:
            NotFound: No such set (404).
            SetInvalid: The set does not load (422).
        """
        return set_info(self.sets.get(name), theme=theme)

    def batch_page(self, *, limit: int, offset: int) -> BatchPage:
        """Batches, newest first, each with its status and first thumbnail."""
        batches, total = self.batches.page(limit=limit, offset=offset)
        ids = [batch.id for batch in batches]
        counts = self._jobs.status_counts(ids)
        sign = self.url_signer.signing()  # image URLs are signed while auth is on
        succeeded = self._jobs.in_groups(ids, status=JobStatus.SUCCEEDED)
        thumbnails = {key: sign(url) for key, url in first_thumbnails(succeeded).items()}
        items = [batch_summary(b, counts[b.id], thumbnails.get(b.id)) for b in batches]
        return BatchPage(items=items, total=total, limit=limit, offset=offset)

    def batch_detail(self, batch_id: str) -> BatchDetail:
        """One batch and each of its items.

        Raises:
            NotFound: No such batch (404).
        """
        batch = self.batches.get(batch_id)
        sign = self.url_signer.signing()  # image URLs are signed while auth is on
        items = [batch_item(job, sign) for job in self.batch_jobs(batch_id)]
        first = next((item.thumbnail_url for item in items if item.thumbnail_url), None)
        summary = batch_summary(batch, self.batch_counts(batch_id), first)
        return BatchDetail(**summary.model_dump(), items=items)

    def batch_counts(self, batch_id: str) -> Counter[str]:
        """The batch's jobs counted by status (see :func:`batch_status`)."""
        return self._jobs.status_counts([batch_id])[batch_id]

    def batch_jobs(self, batch_id: str) -> list[Job]:
        """The batch's jobs in row order."""
        return sorted(self._jobs.in_groups([batch_id]), key=row_index)

    def output_file(self, path: str) -> OutputFile:
        """A served output file (image or sidecar), confined to the outputs root.

        Raises:
            UnsafePath: ``path`` leaves the outputs root (400).
            NotFound: No such file, or not a kind the studio serves (404).
        """
        target = self.outputs.path(path)
        media_type = OUTPUT_MEDIA_TYPES.get(target.suffix.lower())
        if media_type is None or not target.is_file():
            raise StudioNotFound(f"No output file {path!r}.", field="path")
        return OutputFile(target, media_type)

    def public_config(self) -> StudioConfigPublic:
        """The studio defaults in force."""
        return StudioConfigPublic.model_validate(self.config.current().model_dump())

    # -- defaults and themes -----------------------------------------------------------

    def update_config(self, changes: Mapping[str, Any]) -> StudioDefaults:
        """Apply an admin's edit of the defaults (``PUT /api/config``).

        Raises:
            InvalidInput: naming the field at fault; a ``model`` that is not a style
                or id is unknown, as in any other request (SPEC §2.1).
        """
        model = changes.get("model")
        if isinstance(model, str):
            self._model(model, allow_paths=False)
        return self.config.update(changes)

    def random_theme(self) -> str:
        if self._themes is None:
            self._themes = load_themes(self.settings.themes_file)
        return random_theme(self._themes)

    # -- helpers -------------------------------------------------------------------------

    def _model(self, model: str, *, allow_paths: bool) -> ModelSpec:
        return resolve_model(self._models, model, allow_paths=allow_paths)

    def _job(
        self,
        kind: str,
        params: BatchItemParams | GenerateParams,
        *,
        spec: ModelSpec,
        priority: int = 0,
        group_id: str | None = None,
    ) -> JobSpec:
        return JobSpec(
            kind=kind,
            params=params.stored(),
            queue=self.settings.queue,
            route=route_for_model(spec.id),
            priority=priority,
            group_id=group_id,
        )


def resolve_model(models: ModelRegistry, model: str, *, allow_paths: bool = True) -> ModelSpec:
    """The model a studio value names (style, id or, with ``allow_paths``, a local path).

    Raises:
        InvalidInput: Unknown model (the same error for a path when paths are not allowed).
    """
    try:
        return models.resolve(model, allow_paths=allow_paths)
    except NotFound as exc:
        raise StudioInvalidInput(exc.message, field="model") from None


def check_defaults(models: ModelRegistry, defaults: StudioDefaults) -> None:
    """Studio defaults must name a model that exists and a sampler that suits it.

    Raises:
        InvalidInput: naming ``model`` or ``scheduler``.
    """
    spec = resolve_model(models, defaults.model)
    if defaults.scheduler is not None:
        allowed = samplers_for(FAMILIES[spec.family])
        if defaults.scheduler not in allowed:
            raise StudioInvalidInput(
                f"scheduler: {defaults.scheduler!r} does not work with {spec.name!r}; "
                f"use one of: {', '.join(allowed)}",
                field="scheduler",
            )


def _request(values: dict[str, Any]) -> GenerationRequest:
    try:
        return GenerationRequest.model_validate(values)
    except ValidationError as exc:
        raise invalid_input_from(exc) from None


def _batch_params(card_set: CardSet, defaults: StudioDefaults) -> dict[str, Any]:
    """What a batch was made with, beyond its rows (for galleries: "use these settings")."""
    entry = card_set.entry
    return {
        "width": entry.width,
        "height": entry.height,
        "base_prompt": entry.base_prompt,
        "prompt_template": entry.prompt_template,
        "style_suffix": entry.style_suffix,
        "negative_prompt": entry.negative_prompt,
        "loras": [lora.model_dump(exclude_none=True) for lora in entry.loras],
        "defaults": defaults.model_dump(),
    }
