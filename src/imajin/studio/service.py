"""Start batches and single generations; describe sets, batches and the studio defaults.

Rendering happens in the job handlers (:mod:`imajin.studio.handler`). Each job
carries its complete generation request, so a worker needs neither the set
file nor the studio defaults — editing either later never changes a queued job.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from imajin.config.studio import StudioDefaults, StudioSettings
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
from imajin.jobs.models import Job, JobSpec
from imajin.jobs.service import JobService
from imajin.storage.base import FileStorage
from imajin.store.tables import utcnow
from imajin.studio.catalog import SetCatalog
from imajin.studio.errors import StudioInvalidInput, StudioNotFound
from imajin.studio.outputs import release_folder, reserve_folder, stamp
from imajin.studio.repository import Batch, BatchRepository
from imajin.studio.runtime_config import StudioConfigStore
from imajin.studio.schemas import BatchCreate, BatchCreated
from imajin.studio.sets import CardSet, SetRow, find_lora_file
from imajin.studio.themes import load_themes, random_theme

BATCH_ITEM_JOB = "batch_item"
GENERATE_JOB = "generate"

PromptCheck = Callable[[str, str], None]
"""(text, field) → None, or raises PolicyViolation (the safety layer's hard block)."""


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
    ) -> None:
        self.sets = sets
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
        spec = self._model(card_set.entry.model or defaults.model)
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
                {
                    "batchId": batch.id,
                    "setName": card_set.name,
                    "userTheme": theme,
                    "index": row.index,
                    "item": row.item,
                    "values": dict(row.values),
                    "output": f"{folder}/{timestamp}_{row.slug}.{defaults.image_format}",
                    "quality": defaults.webp_quality,
                    "request": request.model_dump(mode="json", exclude_none=True),
                },
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

    def generate(self, body: GenerationRequest) -> Job:
        """Queue a ``generate`` job; fields the request leaves out take the studio defaults.

        Raises:
            PolicyViolation: The prompt is hard-blocked (422).
            InvalidInput / NotFound: Unknown model or LoRA file (422 / 404).
            Overloaded: The studio queue is full (429).
        """
        self._check_prompt(body.prompt, "prompt")
        given = body.model_dump(exclude_unset=True)
        defaults = self.config.current()
        spec = self._model(given.get("model", defaults.model))
        filled = {
            "steps": defaults.steps,
            "guidance": defaults.guidance,
            "scheduler": defaults.scheduler,
            **{key: value for key, value in given.items() if value is not None},
            "model": spec.id,
        }
        request = self._resolve_loras(_request(filled))
        # A full queue is refused before the folder is made: a burst of refusals costs
        # one count each, not a mkdir race over "single_<ts>-N" names.
        self._jobs.check_room(self.settings.queue)
        timestamp = stamp(utcnow())
        folder = reserve_folder(self.outputs, "single", timestamp)
        params = {
            "outputDir": folder,
            "stamp": timestamp,
            "format": defaults.image_format,
            "quality": defaults.webp_quality,
            "request": request.model_dump(mode="json", exclude_none=True),
        }
        try:
            return self._jobs.submit(self._job(GENERATE_JOB, params, spec=spec))
        except BaseException:
            release_folder(self.outputs, folder)
            raise

    def _resolve_loras(self, request: GenerationRequest) -> GenerationRequest:
        """Each LoRA as an absolute file path; the engine checks its architecture at run time."""
        loras = []
        for index, lora in enumerate(request.loras):
            found = find_lora_file(lora, base=Path.cwd(), lora_dirs=self._lora_dirs)
            if found is None:
                field = f"loras[{index}].{'path' if lora.path is not None else 'id'}"
                folders = ", ".join(str(d) for d in self._lora_dirs)
                raise StudioNotFound(
                    f"{field}: no LoRA {lora.reference!r} (looked in {folders})", field=field
                )
            loras.append(LoraRequest(path=str(found), weight=lora.weight))
        return request.model_copy(update={"loras": loras})

    # -- defaults and themes -----------------------------------------------------------

    def update_config(self, changes: Mapping[str, Any]) -> StudioDefaults:
        return self.config.update(changes)

    def random_theme(self) -> str:
        if self._themes is None:
            self._themes = load_themes(self.settings.themes_file)
        return random_theme(self._themes)

    # -- helpers -------------------------------------------------------------------------

    def _model(self, model: str) -> ModelSpec:
        return resolve_model(self._models, model)

    def _job(
        self,
        kind: str,
        params: dict[str, Any],
        *,
        spec: ModelSpec,
        priority: int = 0,
        group_id: str | None = None,
    ) -> JobSpec:
        # Routed by model: a Celery worker with this model warm keeps getting its jobs.
        route = "".join(c if c.isalnum() or c in "._-" else "_" for c in spec.id)[:128]
        return JobSpec(
            kind=kind,
            params=params,
            queue=self.settings.queue,
            route=route or "default",
            priority=priority,
            group_id=group_id,
        )


def resolve_model(models: ModelRegistry, model: str) -> ModelSpec:
    """The model a studio value names (style, id or local path); unknown → InvalidInput."""
    try:
        return models.resolve(model)
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
