"""The composition root: the one place that builds implementations from settings.

Services get their collaborators through constructors; routes reach them
through :class:`Platform`, stored on the app's state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client import CollectorRegistry

from imajin.config.settings import Settings
from imajin.events.analytics import AnalyticsConsumer
from imajin.events.bus import EventBus
from imajin.events.outbox import EventStore
from imajin.jobs.admission import Admission
from imajin.jobs.handlers import HandlerRegistry, JobResources, noop_handler
from imajin.jobs.local import LocalDispatcher
from imajin.jobs.repository import JobRepository
from imajin.jobs.runner import Heartbeats, JobRunner
from imajin.jobs.service import Dispatcher, JobService
from imajin.storage.local import LocalFileStorage
from imajin.store.api_keys import ApiKeyRepository
from imajin.store.database import Database

logger = logging.getLogger(__name__)

Role = Literal["server", "worker"]


@dataclass
class Platform:
    """Everything a running imajin node holds."""

    settings: Settings
    database: Database
    storage: LocalFileStorage
    api_keys: ApiKeyRepository
    handlers: HandlerRegistry
    resources: JobResources
    heartbeats: Heartbeats
    runner: JobRunner
    jobs: JobService
    events: EventStore
    bus: EventBus
    analytics: AnalyticsConsumer
    metrics: CollectorRegistry
    _closers: list[object] = field(default_factory=list)
    _started: bool = False

    def start(self) -> None:
        """Start background work: event relay, heartbeats, dispatcher threads."""
        if self._started:
            return
        self._started = True
        self.bus.start()
        self.heartbeats.start()
        self.jobs.start()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self.jobs.stop()
        self.heartbeats.stop()
        self.bus.stop()

    def close(self) -> None:
        self.stop()
        self.database.dispose()


def register_handlers(handlers: HandlerRegistry) -> None:
    """Every job kind the platform knows. Later subsystems add theirs here."""
    handlers.register("noop", noop_handler)


def build_platform(
    settings: Settings,
    *,
    database: Database | None = None,
    role: Role = "server",
) -> Platform:
    """Build every service from ``settings``.

    Args:
        database: lets tests pass their own.
        role: ``worker`` builds no dispatcher threads (Celery delivers the jobs).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = database or Database(settings.database_url, echo=settings.database.echo)
    storage = LocalFileStorage(settings.data_dir)
    metrics = CollectorRegistry()

    handlers = HandlerRegistry()
    register_handlers(handlers)
    resources = JobResources(database=database, storage=storage)
    repository = JobRepository(database)
    heartbeats = Heartbeats(repository, interval_s=settings.jobs.heartbeat_interval_s)
    runner = JobRunner(repository, handlers, resources, heartbeats)
    jobs = JobService(
        repository=repository,
        admission=Admission(database, repository, settings.jobs),
        dispatcher=_dispatcher(settings, repository, runner, role),
        handlers=handlers,
    )

    events = EventStore(database)
    bus = EventBus(events)
    analytics = AnalyticsConsumer(metrics)
    bus.subscribe(analytics, types=analytics.types)
    if settings.events.redis_url:
        from imajin.events.redis_bridge import RedisPublisher  # noqa: PLC0415  # optional extra

        bus.subscribe(RedisPublisher(settings.events.redis_url))

    return Platform(
        settings=settings,
        database=database,
        storage=storage,
        api_keys=ApiKeyRepository(database, configured=settings.auth.keys),
        handlers=handlers,
        resources=resources,
        heartbeats=heartbeats,
        runner=runner,
        jobs=jobs,
        events=events,
        bus=bus,
        analytics=analytics,
        metrics=metrics,
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
    settings: Settings, repository: JobRepository, runner: JobRunner, role: Role
) -> Dispatcher:
    if role == "worker":
        return _NoDispatch()
    if settings.jobs.dispatcher == "celery":
        from imajin.jobs.celery_dispatch import CeleryDispatcher  # noqa: PLC0415  # optional extra

        return CeleryDispatcher(repository, settings.jobs)
    return LocalDispatcher(repository, runner, settings.jobs)
