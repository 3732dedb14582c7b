"""Typed FastAPI dependencies shared by the routers.

Each route depends on the one service it calls (``VariationsDep``, ``StudioDep``,
``JobsDep``…), taken from the platform the composition root built
(``app.state.platform``). Routes never see the platform itself, a repository or
a session: the service is the only door to its data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import Depends, Query, Request
from prometheus_client import CollectorRegistry

from imajin.assistant import AssistantService
from imajin.config.settings import Settings
from imajin.events.analytics import AnalyticsConsumer
from imajin.events.fanout import StreamHub
from imajin.jobs.service import JobService
from imajin.keys.service import KeysService
from imajin.loras import LoraCatalog
from imajin.pulls import PullService
from imajin.storage.url_signing import Sign
from imajin.studio.service import StudioService
from imajin.training.service import TrainingService
from imajin.variations.service import VariationService
from imajin.wiring import Platform, PlatformHealth

if TYPE_CHECKING:
    from imajin.engine.engine import ModelStatus  # imports torch


async def get_platform(request: Request) -> Platform:
    # The getters here are ``async``: FastAPI runs a sync dependency on a pool thread,
    # and a thread hop per attribute read cost a burst of submits most of its time on
    # the event loop. The ones that may block (the engine's first build, whether auth
    # is on) stay sync.
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]
"""The whole container: for the auth dependency and the getters below, not for routes."""


class ModelCatalog(Protocol):
    """What the model routes ask the engine (typed here so that importing it needs no torch)."""

    def list_models(self) -> list[ModelStatus]: ...


async def get_settings(platform: PlatformDep) -> Settings:
    return platform.settings


async def get_variations(platform: PlatformDep) -> VariationService:
    return platform.variations


async def get_studio(platform: PlatformDep) -> StudioService:
    return platform.studio


async def get_loras(platform: PlatformDep) -> LoraCatalog:
    return platform.loras


async def get_pulls(platform: PlatformDep) -> PullService:
    return platform.pulls


async def get_training(platform: PlatformDep) -> TrainingService:
    return platform.training


async def get_jobs(platform: PlatformDep) -> JobService:
    return platform.jobs


async def get_assistant(platform: PlatformDep) -> AssistantService:
    return platform.assistant


async def get_events(platform: PlatformDep) -> StreamHub:
    """Live event streams: one reader per process fans out to every open stream."""
    return platform.streams


async def get_analytics(platform: PlatformDep) -> AnalyticsConsumer:
    return platform.analytics


async def get_metrics(platform: PlatformDep) -> CollectorRegistry:
    return platform.metrics


async def get_keys(platform: PlatformDep) -> KeysService:
    return platform.keys


def get_engine(platform: PlatformDep) -> ModelCatalog:
    return platform.engine  # built on first use


def get_url_sign(platform: PlatformDep) -> Sign:
    """Signs image URLs while auth is on (SPEC §3.2); asked once per response."""
    return platform.url_signer.signing()


async def check_health(request: Request) -> PlatformHealth:
    """Async and without ``PlatformDep`` (a sync dependency runs in the thread pool):
    ``/health`` must answer while a burst holds every pool thread."""
    platform: Platform = request.app.state.platform
    return platform.health()  # the background checker's last results: no I/O here


SettingsDep = Annotated[Settings, Depends(get_settings)]
VariationsDep = Annotated[VariationService, Depends(get_variations)]
StudioDep = Annotated[StudioService, Depends(get_studio)]
LorasDep = Annotated[LoraCatalog, Depends(get_loras)]
PullsDep = Annotated[PullService, Depends(get_pulls)]
TrainingDep = Annotated[TrainingService, Depends(get_training)]
JobsDep = Annotated[JobService, Depends(get_jobs)]
AssistantDep = Annotated[AssistantService, Depends(get_assistant)]
EventsDep = Annotated[StreamHub, Depends(get_events)]
AnalyticsDep = Annotated[AnalyticsConsumer, Depends(get_analytics)]
MetricsDep = Annotated[CollectorRegistry, Depends(get_metrics)]
KeysDep = Annotated[KeysService, Depends(get_keys)]
EngineDep = Annotated[ModelCatalog, Depends(get_engine)]
HealthDep = Annotated[PlatformHealth, Depends(check_health)]
SignDep = Annotated[Sign, Depends(get_url_sign)]
"""The platform's health as last checked in the background (database ping, storage), and
the LLM backend."""


# Database integers are signed 64-bit, so 2**63 overflowed into a 500; 2**53 - 1 also
# survives JSON in a browser. One bound for every offset and event position.
MAX_POSITION = 2**53 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_POSITION, description="Items to skip.")]
