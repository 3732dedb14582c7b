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
from imajin.engine.cache import WarmCache, WarmPipeline
from imajin.engine.devices import default_budget_bytes, resolve_device, resolve_dtype
from imajin.engine.families import FAMILIES, FamilyId, family_label
from imajin.engine.generate import CancelCheck, ImageCall, ProgressCallback, StepTracker, render
from imajin.engine.hashing import FileHasher
from imajin.engine.loaders import LOADERS, PipelineLoader, pipeline_nbytes, place_pipeline
from imajin.engine.lora import LoraFile, applied_loras, check_family, resolve_lora
from imajin.engine.metadata import save_image
from imajin.engine.parameters import AppliedLora, GenerationParameters
from imajin.engine.registry import ModelRegistry
from imajin.engine.request import MAX_SEED, GenerationRequest
from imajin.engine.schedulers import build_scheduler, samplers_for
from imajin.engine.settings import EngineSettings
from imajin.engine.spec import ModelSpec
from imajin.engine.weights import weight_files
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
            request = GenerationRequest.parse(request)
        # Only the positive prompt: negative prompts name what must not appear, on purpose.
        if self._prompt_guard is not None:
            self._prompt_guard(request.prompt, "prompt")
        spec = self.registry.resolve(request.model)
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
    ) -> GenerationResult:
        """Generate the request's images.

        Args:
            request: A request, or a mapping validated into one.
            progress: Called after every denoising step.
            cancel: Polled before each image and after each step; when it returns
                True, :class:`~imajin.engine.errors.GenerationCancelled` is raised.
        """
        started = time.perf_counter()
        plan = self.plan(request)
        tracker = StepTracker(
            images=plan.request.num_images, steps=plan.steps, progress=progress, cancel=cancel
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
        applied = [
            AppliedLora(
                name=lora.name,
                path=str(lora.path),
                sha256=self._hasher.file(lora.path),
                weight=lora.weight,
            )
            for lora in plan.loras
        ]
        model_hash = self.model_hash(plan.spec)
        results: list[GeneratedImage] = []
        with applied_loras(warm.pipeline, plan.loras, spec=plan.spec):
            for index in range(plan.request.num_images):
                tracker.start_image(index)
                call = ImageCall(
                    prompt=plan.request.prompt,
                    negative_prompt=plan.negative_prompt,
                    width=plan.width,
                    height=plan.height,
                    steps=plan.steps,
                    guidance=plan.guidance,
                    guidance_rescale=plan.spec.guidance_rescale,
                    seed=plan.seed_of(index),
                )
                scheduler = warm.schedulers.get(plan.scheduler)
                if scheduler is None:
                    scheduler = warm.schedulers[plan.scheduler] = build_scheduler(
                        plan.scheduler,
                        base_config=warm.base_scheduler.config,
                        family=family,
                        prediction=plan.spec.prediction,
                    )
                image = render(
                    warm.pipeline, call, family=family, scheduler=scheduler, tracker=tracker
                )
                parameters = GenerationParameters(
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
                results.append(GeneratedImage(image=image, parameters=parameters))
        return results

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
        spec = self.registry.resolve(model)
        self._warm(spec)
        return self._status(spec)

    def unload(self, model: str) -> bool:
        """Drop a warm model (if idle); True if it was dropped."""
        return self._cache.evict(self.registry.resolve(model).id)

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
