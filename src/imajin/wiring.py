"""The composition root: the one place that builds implementations from settings.

Services get their collaborators through constructors; routes reach each
service through its own dependency (:mod:`imajin.api.deps`), taken from the
:class:`Platform` stored on the app's state. Tests swap collaborators through
:class:`PlatformOverrides`, never by assigning to a built platform.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from prometheus_client import CollectorRegistry

from imajin.assistant import AssistantService, build_assistant, llm_health, prompt_guard
from imajin.config.settings import Settings
from imajin.engine.registry import ModelRegistry, build_registry
from imajin.events.analytics import AnalyticsConsumer
from imajin.events.bus import EventBus
from imajin.events.fanout import StreamHub
from imajin.events.outbox import EventStore
from imajin.gateway import GatewayRenderer, GatewayService, build_gateway, with_gateway_queues
from imajin.gateway.avatar import AvatarTemplate
from imajin.gateway.handler import chat_shape_key, imagegen_shape_key
from imajin.gateway.output_check import ImageScorer
from imajin.gateway.params import CHAT_IMAGE_JOB, IMAGEGEN_JOB, PROFILE_JOB
from imajin.gateway.profile import FeatureSource, ProfileRenderer
from imajin.gateway.profile_service import ENDPOINT as PROFILE_ENDPOINT
from imajin.gateway.profile_service import ProfileService
from imajin.gateway.selfies import SelfieCarrier, SelfieHandoff, SelfieInbox, SelfieStore
from imajin.health import HealthMonitor
from imajin.jobs.admission import Admission
from imajin.jobs.handlers import NOOP_BATCH, BatchRule, HandlerRegistry, noop_handler
from imajin.jobs.local import LocalDispatcher
from imajin.jobs.repository import JobRepository
from imajin.jobs.runner import Heartbeats, JobRunner
from imajin.jobs.service import Dispatcher, JobService
from imajin.keys.service import KeysService
from imajin.lazy import HEAVY_IMPORTS
from imajin.llm import LLMClient, LLMRegistry
from imajin.loras import LoraCatalog
from imajin.pulls import PULL_JOB, PullService, make_pull_handler
from imajin.retention import RetentionSweeper
from imajin.safety import build_negative_prompt, complete_negative_prompt, enforce
from imajin.storage.base import FileStorage
from imajin.storage.local import LocalFileStorage, StorageHealth
from imajin.storage.temp import remove_leftovers
from imajin.storage.url_signing import UrlSigner
from imajin.store.api_keys import ApiKeyRepository
from imajin.store.database import Database
from imajin.store.migrate import upgrade
from imajin.studio.catalog import SetCatalog, shipped_sets_dir
from imajin.studio.handler import StudioRenderer, shape_key
from imajin.studio.params import BATCH_ITEM_JOB, GENERATE_JOB
from imajin.studio.repository import BatchRepository
from imajin.studio.runtime_config import StudioConfigStore
from imajin.studio.service import StudioService, check_defaults
from imajin.training.handler import JOB_KIND as TRAINING_JOB
from imajin.training.handler import make_training_handler
from imajin.training.service import TrainingService
from imajin.variations.params import JOB_KIND as VARIATION_JOB
from imajin.variations.repository import VariationRepository
from imajin.variations.service import VariationService
from imajin.variations.urls import VariationUrls
from imajin.vision import FaceDetector
from imajin.vision.feature_schema import load_feature_schema
from imajin.vision.features import build_feature_extractor
from imajin.vision.registry import detector_factory

if TYPE_CHECKING:
    from imajin.engine.engine import Engine
    from imajin.variations.handler import VariationRenderer

logger = logging.getLogger(__name__)

Role = Literal["server", "worker"]


@dataclass(frozen=True)
class PlatformOverrides:
    """Collaborators to use instead of the ones :func:`build_platform` would build.

    For tests (a scripted LLM, a scorer that needs no weights) and embedders; each
    one left None is built from the settings.

    Attributes:
        assistant: The prompt assistant.
        gateway_llm: The LLM client the gateway's prompt steps use.
        image_scorer: The gateway's output check (default: the OpenNSFW scorer).
    """

    assistant: AssistantService | None = None
    gateway_llm: LLMClient | None = None
    image_scorer: ImageScorer | None = None


@dataclass(frozen=True)
class PlatformHealth:
    """What ``/health`` reports, gathered in one call."""

    database_ok: bool
    storage: StorageHealth
    llm: dict[str, Any]
    """The prompt assistant's default model and its backend (loads nothing)."""

    @property
    def healthy(self) -> bool:
        return self.database_ok and self.storage.writable


@dataclass
class Platform:
    """Everything a running imajin node holds."""

    settings: Settings
    database: Database
    storage: FileStorage
    images: FileStorage
    keys: KeysService
    url_signer: UrlSigner
    models: ModelRegistry
    handlers: HandlerRegistry
    heartbeats: Heartbeats
    runner: JobRunner
    jobs: JobService
    events: EventStore
    bus: EventBus
    streams: StreamHub  # every SSE stream's live events, read once by the relay
    analytics: AnalyticsConsumer
    metrics: CollectorRegistry
    variations: VariationService
    studio: StudioService
    loras: LoraCatalog
    pulls: PullService
    training: TrainingService
    llm: LLMRegistry
    assistant: AssistantService
    health_monitor: HealthMonitor  # /health answers from its last checks
    retention: RetentionSweeper
    gateway: GatewayService | None = None
    profile: ProfileService | None = None
    _engine: Engine | None = None
    _engine_lock: threading.Lock = field(default_factory=threading.Lock)
    _started: bool = False
    _llm_entry: dict[str, Any] | None = None

    @property
    def engine(self) -> Engine:
        """The diffusers engine, built on first use (importing torch takes seconds)."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = build_engine(self.settings, registry=self.models)
            return self._engine

    def health(self) -> PlatformHealth:
        """The background checker's last store ping and storage check (never waits on
        them), and the LLM backend's description."""
        checked = self.health_monitor.current()
        return PlatformHealth(
            database_ok=checked.database_ok,
            storage=checked.storage,
            llm=self._llm_health(),
        )

    def _llm_health(self) -> dict[str, Any]:
        # Worked out once: it only describes configured backends, and /health is probed
        # often enough (and while bursts load the event loop) for the lookups to show.
        if self._llm_entry is None:
            self._llm_entry = llm_health(self.assistant)["llm"]
        return self._llm_entry

    def start(self) -> None:
        """Sweep crash leftovers from the served folders, then start background work:
        health checker, event relay, heartbeats, dispatcher threads, retention."""
        if self._started:
            return
        self._started = True
        for served in (self.settings.layout.images, self.settings.layout.outputs):
            remove_leftovers(served)
        self.health_monitor.start()
        self.bus.start()
        self.heartbeats.start()
        self.jobs.start()
        self.retention.start()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self.retention.stop()
        self.jobs.stop()
        self.heartbeats.stop()
        self.bus.stop()
        self.health_monitor.stop()

    def close(self) -> None:
        self.stop()
        self.llm.close()
        self.database.dispose()


def negative_prompt(style: str, given: str | None) -> str:
    """Every negative prompt: the caller's (or the platform's) terms plus legal safety.

    Built once, by the service that queues the request; the engine only completes
    one that lacks a legal term (:func:`imajin.safety.complete_negative_prompt`).
    """
    return build_negative_prompt(style, override=given)


def check_prompt(text: str, field: str) -> None:
    """The safety layer's hard block (raises PolicyViolation → 422)."""
    enforce(text, field=field)


def build_database(settings: Settings) -> Database:
    """The store for ``settings`` (creates the data directory a SQLite file lives in)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database(settings.database_url, echo=settings.database.echo)


def build_models(settings: Settings) -> ModelRegistry:
    """The model registry: shipped manifest plus the operator's (no torch)."""
    return build_registry(settings.engine, data_dir=settings.data_dir)


def build_engine(settings: Settings, *, registry: ModelRegistry | None = None) -> Engine:
    """The diffusers engine with the safety layer wired in (imports torch when called)."""
    with HEAVY_IMPORTS:  # the start-up warm-up may be importing torch right now
        from imajin.engine.factory import build_engine as engine_from  # noqa: PLC0415  # torch

    return engine_from(
        settings.engine,
        data_dir=settings.data_dir,
        # Guards of last resort: the services check and build at submit time already.
        negative_prompt_builder=complete_negative_prompt,
        prompt_guard=check_prompt,
        registry=registry or build_models(settings),
    )


def build_llm(settings: Settings) -> LLMRegistry:
    """The LLM registry; every prompt sent to an LLM passes the rule-1 guard (SPEC §4.3 rule 6)."""
    return LLMRegistry(settings.llm, prompt_guard=prompt_guard(settings.assistant))


def build_assistant_service(
    settings: Settings, *, llm: LLMRegistry, database: Database
) -> AssistantService:
    """The assistant over ``llm`` and the answer cache in ``database``."""
    return build_assistant(
        settings=settings.assistant, llm=llm, database=database, data_dir=settings.data_dir
    )


@contextmanager
def local_assistant(settings: Settings) -> Iterator[AssistantService]:
    """An assistant for one CLI command, over a migrated store; closed afterwards."""
    llm = build_llm(settings)
    database = build_database(settings)
    try:
        upgrade(database)
        yield build_assistant_service(settings, llm=llm, database=database)
    finally:
        llm.close()
        database.dispose()


def variation_renderer(platform: Platform, **options: Any) -> VariationRenderer:
    """The ``variation`` handler over the platform's collaborators; ``options`` are the
    handler's own (``renderer``, ``pool``, ``overlap``: tests and benchmarks vary them)."""
    from imajin.variations.handler import VariationRenderer  # noqa: PLC0415  # imports pyvips

    return VariationRenderer(
        repository=platform.variations.repository,
        models=platform.models,
        engine=lambda: platform.engine,
        images=platform.images,
        urls=platform.variations.urls,
        imaging=platform.settings.imaging,
        **options,
    )


def register_handlers(platform: Platform) -> None:
    """Every job kind the platform knows. Later subsystems add theirs here."""
    handlers = platform.handlers
    handlers.register("noop", noop_handler, batch=NOOP_BATCH)
    variations = variation_renderer(platform)
    handlers.register(VARIATION_JOB, variations, settle=variations.settle)
    studio = StudioRenderer(
        engine=lambda: platform.engine,
        outputs=platform.studio.outputs,
        thumbnail_px=platform.settings.studio.thumbnail_px,
        unfinished_in_batch=platform.jobs.repository.unfinished_in_group,
    )
    # Studio items and /api/generate jobs of one shape are denoised together.
    studio_batch = BatchRule(
        group="studio", key=shape_key, limit=studio.batch_limit, run=studio.run_batch
    )
    handlers.register(
        BATCH_ITEM_JOB, studio.batch_item, settle=studio.settle_batch_item, batch=studio_batch
    )
    handlers.register(
        GENERATE_JOB, studio.generate, settle=studio.settle_generate, batch=studio_batch
    )
    handlers.register(
        TRAINING_JOB,
        make_training_handler(
            # Paths allowed for jobs queued in-process; the HTTP route (TrainingService)
            # resolves a request's base to a model id before it queues the job.
            resolve_model=lambda model: platform.models.resolve(model, allow_paths=True),
            data_root=platform.settings.layout.training,
            # Straight into the LoRA folder: a trained LoRA is usable by id at once.
            output_root=platform.settings.layout.loras,
            defaults=platform.settings.training,
            offline=platform.settings.engine.offline,
            cache_dir=platform.settings.engine.cache_dir,
        ),
    )
    handlers.register(
        PULL_JOB,
        make_pull_handler(
            resolve_model=lambda model: platform.models.get(model, allow_paths=False),
            cache_dir=platform.settings.engine.cache_dir,
        ),
    )


def build_platform(
    settings: Settings,
    *,
    database: Database | None = None,
    role: Role = "server",
    overrides: PlatformOverrides | None = None,
) -> Platform:
    """Build every service from ``settings``.

    Args:
        database: lets tests pass their own.
        role: ``worker`` builds no dispatcher threads (Celery delivers the jobs).
        overrides: collaborators to use instead of building them.
    """
    overrides = overrides or PlatformOverrides()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = database or build_database(settings)
    storage = LocalFileStorage(settings.data_dir)
    metrics = CollectorRegistry()

    handlers = HandlerRegistry()
    repository = JobRepository(database, settle=handlers.settle)
    heartbeats = Heartbeats(repository, interval_s=settings.jobs.heartbeat_interval_s)
    runner = JobRunner(
        repository,
        handlers,
        heartbeats,
        progress_interval_s=settings.jobs.progress_interval_s,
    )
    jobs = JobService(
        repository=repository,
        admission=Admission(
            database, repository, with_gateway_queues(settings.jobs, settings.gateway)
        ),
        dispatcher=_dispatcher(settings, repository, runner, role, payloads=handlers),
        handlers=handlers,
    )

    events = EventStore(database)
    bus = EventBus(events, poll_interval_s=settings.events.relay_interval_s)
    analytics = AnalyticsConsumer(metrics)
    bus.subscribe(analytics, types=analytics.types)
    if settings.events.redis_url:
        from imajin.events.redis_bridge import RedisPublisher  # noqa: PLC0415  # optional extra

        bus.subscribe(RedisPublisher(settings.events.redis_url))

    images = LocalFileStorage(settings.layout.images)
    models = build_models(settings)
    keys = KeysService(repository=ApiKeyRepository(database), configured=settings.auth.keys)
    # Image URLs are signed whenever auth is on (SPEC §3.2).
    url_signer = UrlSigner(settings.layout.url_secret, active=keys.auth_required)
    variations = VariationService(
        repository=VariationRepository(database),
        jobs=jobs,
        models=models,
        images=images,
        settings=settings.variations,
        negative_prompt=negative_prompt,
        check_prompt=check_prompt,
        urls=VariationUrls(settings.variations.public_base_url, signer=url_signer),
    )
    studio = _studio(
        settings,
        database=database,
        jobs=jobs,
        storage=storage,
        models=models,
        url_signer=url_signer,
    )
    # Every prompt sent to an LLM passes the rule-1 guard (SPEC §4.3 rule 6).
    llm = build_llm(settings)
    lora_dirs = settings.layout.lora_dirs(settings.engine.lora_dirs)
    platform = Platform(
        settings=settings,
        database=database,
        storage=storage,
        images=images,
        keys=keys,
        url_signer=url_signer,
        models=models,
        handlers=handlers,
        heartbeats=heartbeats,
        runner=runner,
        jobs=jobs,
        events=events,
        bus=bus,
        streams=StreamHub(bus),
        analytics=analytics,
        metrics=metrics,
        variations=variations,
        studio=studio,
        loras=LoraCatalog(lora_dirs=lora_dirs, models=models),
        pulls=PullService(jobs=jobs, models=models),
        training=TrainingService(
            jobs=jobs,
            models=models,
            root=settings.layout.training,
            lora_dirs=lora_dirs,
            defaults=settings.training,
        ),
        llm=llm,
        assistant=overrides.assistant
        or build_assistant_service(settings, llm=llm, database=database),
        health_monitor=HealthMonitor(ping_database=database.ping, check_storage=storage.health),
        retention=RetentionSweeper(
            jobs=repository,
            events=events,
            relayed_through=lambda: bus.relayed_through,
            history_days=settings.jobs.history_days,
            retention_days=settings.events.retention_days,
        ),
    )
    register_handlers(platform)
    _gateway(platform, overrides)
    return platform


def _gateway(platform: Platform, overrides: PlatformOverrides) -> None:
    settings = platform.settings
    given = overrides.gateway_llm

    def llm() -> LLMClient:
        return given or platform.llm.client_for(settings.gateway.llm_model)

    gateway, renderer = build_gateway(
        settings=settings.gateway,
        jobs=platform.jobs,
        models=platform.models,
        llm=llm,
        engine=lambda: platform.engine,
        scorer=overrides.image_scorer,
        metrics=platform.metrics,
    )
    platform.gateway = gateway
    # Each kind batches among its own: after generation their handlers differ.
    chat_batch = BatchRule(
        group=CHAT_IMAGE_JOB,
        key=chat_shape_key,
        limit=renderer.chat_limit,
        run=renderer.chat_image_batch,
    )
    platform.handlers.register(CHAT_IMAGE_JOB, renderer.chat_image, batch=chat_batch)
    imagegen_batch = BatchRule(
        group=IMAGEGEN_JOB,
        key=imagegen_shape_key,
        limit=renderer.imagegen_limit,
        run=renderer.imagegen_batch,
    )
    platform.handlers.register(IMAGEGEN_JOB, renderer.imagegen, batch=imagegen_batch)
    _profile(platform, gateway=gateway, renderer=renderer)


def selfie_handoff(settings: Settings) -> SelfieHandoff:
    """Where selfies wait for their jobs: memory only, unless the operator keeps them."""
    profile = settings.gateway.profile
    if profile.keep_selfies:
        store = SelfieStore(
            settings.data_dir / "selfies", retention_days=profile.selfie_retention_days
        )
        store.sweep()  # at start-up, and before each new selfie is written
        return store
    return SelfieInbox()


def _profile(
    platform: Platform,
    *,
    gateway: GatewayService,
    renderer: GatewayRenderer,
) -> None:
    settings = platform.settings
    selfies = selfie_handoff(settings)
    detector: list[FaceDetector] = []
    lock = threading.Lock()
    # Checked now (an unknown detector or a bad option fails at start-up), built on first use.
    build_face_detector = detector_factory(
        settings.vision.face_detector, settings.vision.face_detector_options
    )

    def face_detector() -> FaceDetector:
        with lock:  # built once, on the first profile job
            if not detector:
                detector.append(build_face_detector())
            return detector[0]

    # Built now so a missing or text-only `vision.features_model` fails at start-up.
    extractor = build_feature_extractor(settings, platform.llm)
    # One vocabulary: the template names the schema's fields, /generate checks against it.
    schema = load_feature_schema(settings.vision.features_file)
    template = AvatarTemplate.load(settings.gateway.profile.avatar_template, schema=schema)

    def features() -> FeatureSource | None:
        return extractor

    profiles = ProfileRenderer(
        gateway=renderer,
        detector=face_detector,
        features=features,
        selfies=selfies,
        outputs=platform.studio.outputs,
        settings=settings.gateway.profile,
        template=template,
        features_timeout_s=settings.vision.features_timeout_s
        or settings.gateway.endpoint(PROFILE_ENDPOINT).timeout_s,
        forget_params=platform.jobs.repository.forget_params,
    )
    # Kept selfies are files any worker on the volume reads; the others travel with the
    # job's Celery message (the local dispatcher never asks: its jobs share the inbox).
    carrier = SelfieCarrier(selfies) if isinstance(selfies, SelfieInbox) else None
    platform.handlers.register(PROFILE_JOB, profiles, settle=profiles.settle, payload=carrier)
    platform.profile = ProfileService(
        gateway=gateway,
        settings=settings.gateway.profile,
        selfies=selfies,
        template=template,
        has_features=lambda: features() is not None,
    )


def _studio(
    settings: Settings,
    *,
    database: Database,
    jobs: JobService,
    storage: FileStorage,
    models: ModelRegistry,
    url_signer: UrlSigner,
) -> StudioService:
    layout = settings.layout
    lora_dirs = layout.lora_dirs(settings.engine.lora_dirs)
    return StudioService(
        sets=SetCatalog(
            directories=[shipped_sets_dir(), layout.sets],
            lora_dirs=lora_dirs,
            max_items=settings.studio.max_batch_items,
        ),
        config=StudioConfigStore(
            base=settings.studio.defaults,
            storage=storage,
            check=lambda defaults: check_defaults(models, defaults),
        ),
        batches=BatchRepository(database),
        jobs=jobs,
        models=models,
        outputs=LocalFileStorage(layout.outputs),
        settings=settings.studio,
        check_prompt=check_prompt,
        lora_dirs=lora_dirs,
        url_signer=url_signer,
    )


class _NoDispatch:
    """A worker node receives jobs from Celery; it dispatches nothing itself."""

    def start(self) -> None:
        return None

    def stop(self, timeout: float = 0.0) -> None:
        return None

    def dispatch(self, jobs: object) -> None:
        return None


def _dispatcher(
    settings: Settings,
    repository: JobRepository,
    runner: JobRunner,
    role: Role,
    *,
    payloads: HandlerRegistry,
) -> Dispatcher:
    if role == "worker":
        return _NoDispatch()
    if settings.jobs.dispatcher == "celery":
        from imajin.jobs.celery_dispatch import CeleryDispatcher  # noqa: PLC0415  # optional extra

        return CeleryDispatcher(repository, settings.jobs, payloads=payloads)
    return LocalDispatcher(repository, runner, settings.jobs)
