"""The engine: plan a request, load (or reuse) its model, generate, describe the result.

``Engine.plan`` does every check that needs no weights (model, sampler, LoRA
files and architectures, device), so a bad request fails before a model
loads. ``Engine.generate`` then runs the plan on a warm pipeline, holding that
pipeline's lock for the whole job.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

import imajin
from imajin.engine.batching import BatchRequest, chunked, default_max_batch, group_plans
from imajin.engine.cache import WarmCache, WarmPipeline
from imajin.engine.devices import default_budget_bytes, resolve_device, resolve_dtype
from imajin.engine.errors import GenerationCancelled
from imajin.engine.families import FAMILIES, FamilyId, family_label
from imajin.engine.generate import (
    BatchStepper,
    CancelCheck,
    ImageCall,
    ProgressCallback,
    StepTracker,
    render,
    render_batch,
)
from imajin.engine.hashing import FileHasher
from imajin.engine.invariance import make_batch_invariant
from imajin.engine.loaders import LOADERS, PipelineLoader, pipeline_nbytes, place_pipeline
from imajin.engine.lora import LoraFile, applied_loras, check_family, resolve_lora
from imajin.engine.metadata import save_image
from imajin.engine.parameters import AppliedLora, GenerationParameters
from imajin.engine.preview import LatentPreviewer, PreviewCallback
from imajin.engine.registry import ModelRegistry
from imajin.engine.request import MAX_SEED, GenerationRequest, parse_request
from imajin.engine.schedulers import build_scheduler, samplers_for
from imajin.engine.settings import EngineSettings
from imajin.engine.spec import ModelSpec
from imajin.engine.weights import is_downloaded, weight_files
from imajin.errors import ConfigError, InvalidInput

logger = logging.getLogger(__name__)

NegativePromptBuilder = Callable[[str, str | None], str]
"""(model style, the request's negative prompt or None) → the negative prompt to use.

Applied to every request, given negative prompts too: the safety layer's builder
appends its legal-safety terms whatever the caller sent.
"""

PromptGuard = Callable[[str, str], None]
"""(text, field) → None, or raises (the safety layer's hard block)."""


@dataclass(frozen=True)
class GenerationPlan:
    """A request with every default filled in and every file found; nothing loaded yet."""

    request: GenerationRequest
    spec: ModelSpec
    device: torch.device
    loras: list[LoraFile]
    negative_prompt: str
    width: int
    height: int
    steps: int
    guidance: float
    scheduler: str
    seed: int

    def seed_of(self, index: int) -> int:
        """Seed of image ``index`` (A1111 convention: seed + index, wrapping at 2^32)."""
        return (self.seed + index) % (MAX_SEED + 1)


@dataclass(frozen=True)
class GeneratedImage:
    """One image and the exact parameters that made it."""

    image: Image.Image
    parameters: GenerationParameters


@dataclass(frozen=True)
class GenerationResult:
    """The images of one request, the model and device used, and the wall time."""

    images: list[GeneratedImage]
    model: ModelSpec
    device: str
    seconds: float
    batch_size: int = 1
    """Most images denoised in one pipeline call for this request (1: made alone)."""


@dataclass(frozen=True)
class ModelStatus:
    """A known model and whether it is warm (``GET /api/images/models``)."""

    id: str
    name: str
    style: str
    family: str
    status: str
    native: int
    loaded: bool
    device: str
    downloaded: bool
    """Its weights are on disk (a local source exists, or the hub cache holds the repo)."""
    scheduler: str
    """The model's default sampler."""
    samplers: list[str]
    """Every sampler name that works with its family."""


class Engine:
    """Text-to-image over the models of a registry, with warm pipelines and LoRAs.

    Args:
        registry: Known models and style defaults.
        settings: Device, dtype, memory and metadata options.
        lora_dirs: Folders searched for LoRA ids (and relative LoRA paths), in order.
        hasher: Hashes model and LoRA files for metadata (cached).
        negative_prompt_builder: (style, given negative) → negative prompt, applied to
            every request (the safety layer's builder in production).
        prompt_guard: Checks the prompt before anything else is done (the safety
            layer's hard block in production).
        loaders: Family → pipeline loader (tests may substitute).
    """

    def __init__(
        self,
        *,
        registry: ModelRegistry,
        settings: EngineSettings,
        lora_dirs: Sequence[Path] = (),
        hasher: FileHasher | None = None,
        negative_prompt_builder: NegativePromptBuilder | None = None,
        prompt_guard: PromptGuard | None = None,
        loaders: Mapping[FamilyId, PipelineLoader] = LOADERS,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self._lora_dirs = list(lora_dirs)
        self._hasher = hasher or FileHasher()
        self._negative_prompt_builder = negative_prompt_builder
        self._prompt_guard = prompt_guard
        self._loaders = dict(loaders)
        self._cache = WarmCache(budget_bytes=self._budget_bytes)
        self._model_hashes: dict[str, str | None] = {}
        self._hash_lock = threading.Lock()

    # -- planning (no weights touched) ---------------------------------------------

    def device_for(self, spec: ModelSpec) -> torch.device:
        """The device ``spec`` runs on (per-model setting, else the engine's)."""
        return resolve_device(self.settings.devices.get(spec.id, self.settings.device))

    def plan(self, request: GenerationRequest | Mapping[str, Any]) -> GenerationPlan:
        """Check a request and fill in defaults, without loading any model.

        Raises:
            InvalidInput: A value breaks a rule (the field is named).
            NotFound: Unknown model or LoRA.
            IncompatibleLora: A LoRA made for another architecture.
            ConfigError: The configured device does not exist here.
        """
        if not isinstance(request, GenerationRequest):
            request = parse_request(request)
        # Only the positive prompt: negative prompts name what must not appear, on purpose.
        if self._prompt_guard is not None:
            self._prompt_guard(request.prompt, "prompt")
        spec = self.registry.resolve(request.model, allow_paths=True)
        family = FAMILIES[spec.family]
        scheduler = request.scheduler or spec.scheduler
        allowed = samplers_for(family)
        if scheduler not in allowed:
            raise InvalidInput(
                f"scheduler: {scheduler!r} does not work with {family.label} models like "
                f"{spec.name!r}; use one of: {', '.join(allowed)}",
                field="scheduler",
            )
        loras = [
            resolve_lora(lora, index=index, search_dirs=self._lora_dirs)
            for index, lora in enumerate(request.loras)
        ]
        for lora in loras:
            check_family(lora, spec)
        negative = request.negative_prompt
        builder = self._negative_prompt_builder
        if builder is not None:
            negative = builder(spec.style, negative)
        return GenerationPlan(
            request=request,
            spec=spec,
            device=self.device_for(spec),
            loras=loras,
            negative_prompt=negative or "",
            width=request.width or spec.native,
            height=request.height or spec.native,
            steps=request.steps or spec.steps,
            guidance=request.guidance if request.guidance is not None else spec.guidance,
            scheduler=scheduler,
            seed=request.seed if request.seed is not None else secrets.randbelow(MAX_SEED + 1),
        )

    # -- generation ------------------------------------------------------------------

    def generate(
        self,
        request: GenerationRequest | Mapping[str, Any],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
        preview: PreviewCallback | None = None,
    ) -> GenerationResult:
        """Generate the request's images.

        Args:
            request: A request, or a mapping validated into one.
            progress: Called after every denoising step.
            cancel: Polled before each image and after each step; when it returns
                True, :class:`~imajin.engine.errors.GenerationCancelled` is raised.
            preview: Given live previews while denoising, throttled by the settings'
                ``preview_every_steps`` and ``preview_interval_s``; never called when
                ``previews`` is off.
        """
        started = time.perf_counter()
        plan = self.plan(request)
        previewer = None
        if preview is not None and self.settings.previews:
            previewer = LatentPreviewer(
                family=plan.spec.family,
                sink=preview,
                every_steps=self.settings.preview_every_steps,
                min_interval_s=self.settings.preview_interval_s,
            )
        tracker = StepTracker(
            images=plan.request.num_images,
            steps=plan.steps,
            progress=progress,
            cancel=cancel,
            latents=previewer,
        )
        tracker.check_cancelled()
        while True:
            warm = self._warm(plan.spec)
            with warm.lock:
                if warm.pipeline is None:
                    continue  # evicted between lookup and lock: look it up (load it) again
                images = self._run(plan, warm, tracker)
                break
        return GenerationResult(
            images=images,
            model=plan.spec,
            device=str(warm.device),
            seconds=time.perf_counter() - started,
        )

    def _run(
        self, plan: GenerationPlan, warm: WarmPipeline, tracker: StepTracker
    ) -> list[GeneratedImage]:
        family = FAMILIES[plan.spec.family]
        applied = self._applied(plan)
        model_hash = self.model_hash(plan.spec)
        results: list[GeneratedImage] = []
        with applied_loras(warm.pipeline, plan.loras, spec=plan.spec):
            self._batch_invariant_on_cpu(warm, plan.spec)
            for index in range(plan.request.num_images):
                tracker.start_image(index)
                call = _image_call(plan, index)
                scheduler = self._scheduler(plan, warm)
                image = render(
                    warm.pipeline, call, family=family, scheduler=scheduler, tracker=tracker
                )
                parameters = _parameters(plan, call, applied=applied, model_hash=model_hash)
                results.append(GeneratedImage(image=image, parameters=parameters))
        return results

    def _applied(self, plan: GenerationPlan) -> list[AppliedLora]:
        return [
            AppliedLora(
                name=lora.name,
                path=str(lora.path),
                sha256=self._hasher.file(lora.path),
                weight=lora.weight,
            )
            for lora in plan.loras
        ]

    def _scheduler(self, plan: GenerationPlan, warm: WarmPipeline) -> Any:
        scheduler = warm.schedulers.get(plan.scheduler)
        if scheduler is None:
            scheduler = warm.schedulers[plan.scheduler] = build_scheduler(
                plan.scheduler,
                base_config=warm.base_scheduler.config,
                family=FAMILIES[plan.spec.family],
                prediction=plan.spec.prediction,
            )
        return scheduler

    # -- batched generation ------------------------------------------------------------

    def max_batch_for(self, spec: ModelSpec) -> int:
        """Images of ``spec`` one pipeline call may hold (setting, else by device)."""
        configured = self.settings.max_batches.get(spec.id, self.settings.max_batch)
        return configured if configured is not None else default_max_batch(self.device_for(spec))

    def _batch_invariant_on_cpu(self, warm: WarmPipeline, spec: ModelSpec) -> None:
        # Where images may be batched, a batched image must equal the image made alone; on
        # CPU that takes other kernel choices (engine/invariance.py), which cost time on
        # small models, so only then. On CUDA the difference is measured instead.
        if warm.device.type == "cpu" and self.max_batch_for(spec) > 1:
            make_batch_invariant(warm.pipeline)

    def generate_batch(self, items: Sequence[BatchRequest]) -> list[GenerationResult | Exception]:
        """Generate several requests, denoising compatible ones together.

        Requests that share model, size, steps, sampler, guidance and LoRAs go through one
        pipeline call per :meth:`max_batch_for` images; each image keeps its own prompt,
        negative prompt and seed. Returns one outcome per item, in order: its result, or
        the error that stopped it (invalid, cancelled, failed). One item's error never
        fails another: a batched call that raises is retried image by image.
        """
        outcomes: dict[int, GenerationResult | Exception] = {}
        plans: dict[int, GenerationPlan] = {}
        for index, item in enumerate(items):
            try:
                plans[index] = self.plan(item.request)
            except Exception as error:  # reported as this item's outcome
                outcomes[index] = error
        for group in group_plans(plans):
            group_plans_ = {index: plans[index] for index in group}
            outcomes.update(self._generate_group(group_plans_, items))
        return [outcomes[index] for index in range(len(items))]

    def _generate_group(
        self, plans: dict[int, GenerationPlan], items: Sequence[BatchRequest]
    ) -> dict[int, GenerationResult | Exception]:
        started = time.perf_counter()
        first = next(iter(plans.values()))
        trackers = {
            index: StepTracker(
                images=plan.request.num_images,
                steps=plan.steps,
                progress=items[index].progress,
                cancel=items[index].cancel,
            )
            for index, plan in plans.items()
        }
        run = _GroupRun(plans=plans, trackers=trackers)
        while True:
            warm = self._warm(first.spec)
            with warm.lock:
                if warm.pipeline is None:
                    continue  # evicted between lookup and lock: look it up (load it) again
                with applied_loras(warm.pipeline, first.loras, spec=first.spec):
                    self._batch_invariant_on_cpu(warm, first.spec)
                    for chunk in chunked(run.slots(), self.max_batch_for(first.spec)):
                        self._run_chunk(run, chunk, warm)
                break
        return run.outcomes(model=first.spec, device=str(warm.device), started=started)

    def _run_chunk(self, run: _GroupRun, chunk: list[tuple[int, int]], warm: WarmPipeline) -> None:
        live = run.start(chunk)
        if not live:
            return
        first = run.plans[live[0][0]]
        requests = sorted({index for index, _ in live})
        stepper = BatchStepper([run.trackers[index] for index in requests])
        calls = [_image_call(run.plans[index], image) for index, image in live]
        try:
            images = render_batch(
                warm.pipeline,
                calls,
                family=FAMILIES[first.spec.family],
                scheduler=self._scheduler(first, warm),
                stepper=stepper,
            )
        except GenerationCancelled:
            images = None  # every request of the call was cancelled
        except Exception as error:
            if len(live) == 1:
                run.fail(live[0][0], error)
                return
            for slot in live:  # find the item that fails; its neighbours still finish
                self._run_chunk(run, [slot], warm)
            return
        for key, stopped in stepper.cancelled.items():
            run.fail(requests[key], stopped)
        if images is None:
            return
        for (index, image_index), call, image in zip(live, calls, images, strict=True):
            plan = run.plans[index]
            parameters = _parameters(
                plan, call, applied=self._applied(plan), model_hash=self.model_hash(plan.spec)
            )
            run.add(
                index, image_index, GeneratedImage(image=image, parameters=parameters), len(live)
            )

    def save(self, image: GeneratedImage, path: Path) -> Path:
        """Save one generated image (PNG/WebP) with metadata and sidecar per the settings."""
        return save_image(
            image.image,
            path,
            image.parameters,
            embed=self.settings.embed_metadata,
            sidecar=self.settings.write_sidecar,
        )

    # -- models ------------------------------------------------------------------

    def load(self, model: str) -> ModelStatus:
        """Load ``model`` (a style, id or path) now, so the first job does not wait."""
        spec = self.registry.resolve(model, allow_paths=True)
        self._warm(spec)
        return self._status(spec)

    def unload(self, model: str) -> bool:
        """Drop a warm model (if idle); True if it was dropped."""
        return self._cache.evict(self.registry.resolve(model, allow_paths=True).id)

    def list_models(self) -> list[ModelStatus]:
        """Every manifest model, plus warm ad-hoc (path) models, with load state."""
        specs = {spec.id: spec for spec in self.registry.specs()}
        for entry in self._cache.loaded():
            specs.setdefault(entry.spec.id, entry.spec)
        return [self._status(spec) for spec in specs.values()]

    def model_hash(self, spec: ModelSpec) -> str | None:
        """SHA-256 identifying the model's weights (cached), or None if not on disk."""
        with self._hash_lock:
            if spec.id in self._model_hashes:
                return self._model_hashes[spec.id]
        found = weight_files(spec.parsed_source, cache_dir=self.settings.cache_dir)
        value: str | None = None
        if found is not None:
            root, files = found
            value = (
                self._hasher.file(files[0])
                if len(files) == 1
                else self._hasher.files(files, root=root)
            )
        with self._hash_lock:
            self._model_hashes[spec.id] = value
        return value

    def _status(self, spec: ModelSpec) -> ModelStatus:
        warm = self._cache.peek(spec.id)
        try:
            device = str(warm.device) if warm is not None else str(self.device_for(spec))
        except ConfigError:
            device = "unavailable"
        return ModelStatus(
            id=spec.id,
            name=spec.name,
            style=spec.style,
            family=spec.family,
            status=spec.status,
            native=spec.native,
            loaded=warm is not None,
            device=device,
            downloaded=warm is not None or is_downloaded(spec, cache_dir=self.settings.cache_dir),
            scheduler=spec.scheduler,
            samplers=samplers_for(FAMILIES[spec.family]),
        )

    def _budget_bytes(self, device: torch.device) -> int | None:
        if self.settings.memory_budget_gb is not None:
            return int(self.settings.memory_budget_gb * 1e9)
        return default_budget_bytes(device)

    def _warm(self, spec: ModelSpec) -> WarmPipeline:
        return self._cache.get_or_load(spec.id, lambda: self._load(spec))

    def _load(self, spec: ModelSpec) -> WarmPipeline:
        family = FAMILIES[spec.family]
        device = self.device_for(spec)
        dtype = resolve_dtype(self.settings.dtype, device=device, family=family)
        loader = self._loaders.get(spec.family)
        if loader is None:
            raise InvalidInput(f"no loader for {family_label(spec.family)} models", field="model")
        started = time.perf_counter()
        pipe = loader.load(
            spec, dtype=dtype, offline=self.settings.offline, cache_dir=self.settings.cache_dir
        )
        place_pipeline(pipe, device=device, family=family, settings=self.settings)
        nbytes = pipeline_nbytes(pipe)
        logger.info(
            "loaded model %s (%s, %.2f GB, %s, %s) in %.1fs",
            spec.id,
            family.label,
            nbytes / 1e9,
            device,
            str(dtype).removeprefix("torch."),
            time.perf_counter() - started,
        )
        return WarmPipeline(
            spec=spec,
            pipeline=pipe,
            device=device,
            dtype=dtype,
            nbytes=nbytes,
            base_scheduler=pipe.scheduler,
        )


def _image_call(plan: GenerationPlan, index: int) -> ImageCall:
    return ImageCall(
        prompt=plan.request.prompt,
        negative_prompt=plan.negative_prompt,
        width=plan.width,
        height=plan.height,
        steps=plan.steps,
        guidance=plan.guidance,
        guidance_rescale=plan.spec.guidance_rescale,
        seed=plan.seed_of(index),
    )


def _parameters(
    plan: GenerationPlan, call: ImageCall, *, applied: list[AppliedLora], model_hash: str | None
) -> GenerationParameters:
    return GenerationParameters(
        prompt=call.prompt,
        negative_prompt=call.negative_prompt,
        model=plan.spec.id,
        model_name=plan.spec.name,
        model_hash=model_hash,
        family=plan.spec.family,
        width=call.width,
        height=call.height,
        steps=call.steps,
        guidance=call.guidance,
        guidance_rescale=call.guidance_rescale,
        seed=call.seed,
        scheduler=plan.scheduler,
        loras=applied,
        imajin_version=imajin.__version__,
    )


class _GroupRun:
    """Book-keeping of one batch group: images made so far, and which requests stopped."""

    def __init__(self, *, plans: dict[int, GenerationPlan], trackers: dict[int, StepTracker]):
        self.plans = plans
        self.trackers = trackers
        self._images: dict[int, dict[int, GeneratedImage]] = {index: {} for index in plans}
        self._batch: dict[int, int] = dict.fromkeys(plans, 1)
        self._failed: dict[int, Exception] = {}

    def slots(self) -> list[tuple[int, int]]:
        return [
            (index, image)
            for index, plan in self.plans.items()
            for image in range(plan.request.num_images)
        ]

    def start(self, chunk: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The chunk's slots whose request is still live (cancel is checked here)."""
        firsts: dict[int, list[int]] = {}
        for index, image in chunk:
            if index not in self._failed:
                firsts.setdefault(index, []).append(image)
        for index, images in firsts.items():
            try:
                self.trackers[index].start_images(images[0], len(images))
            except GenerationCancelled as error:
                self.fail(index, error)
        return [(index, image) for index, image in chunk if index not in self._failed]

    def fail(self, index: int, error: Exception) -> None:
        self._failed.setdefault(index, error)

    def add(self, index: int, image_index: int, image: GeneratedImage, batch: int) -> None:
        self._images[index][image_index] = image
        self._batch[index] = max(self._batch[index], batch)

    def outcomes(
        self, *, model: ModelSpec, device: str, started: float
    ) -> dict[int, GenerationResult | Exception]:
        seconds = time.perf_counter() - started
        result: dict[int, GenerationResult | Exception] = {}
        for index in self.plans:
            if index in self._failed:
                result[index] = self._failed[index]
                continue
            images = [self._images[index][key] for key in sorted(self._images[index])]
            result[index] = GenerationResult(
                images=images,
                model=model,
                device=device,
                seconds=seconds,
                batch_size=self._batch[index],
            )
        return result
