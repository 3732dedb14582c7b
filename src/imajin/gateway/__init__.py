"""S5 gateway flows (SPEC §6): chat images, general image generation, endpoint policies.

:func:`build_gateway` makes the service (API side) and the renderer (worker side)
from settings and collaborators; ``wiring`` calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from imajin.config.gateway import GatewaySettings
from imajin.config.jobs import JobsSettings, QueueSettings
from imajin.engine.registry import ModelRegistry
from imajin.gateway.handler import GatewayRenderer
from imajin.gateway.output_check import ImageScorer, OpenNsfwScorer
from imajin.gateway.prompts import Instructions, PromptSteps
from imajin.gateway.service import GatewayService
from imajin.jobs.service import JobService
from imajin.llm import LLMClient

if TYPE_CHECKING:
    from imajin.engine.engine import Engine

__all__ = ["GatewayRenderer", "GatewayService", "build_gateway", "with_gateway_queues"]


def build_gateway(
    *,
    settings: GatewaySettings,
    jobs: JobService,
    models: ModelRegistry,
    llm: Callable[[], LLMClient],
    engine: Callable[[], Engine],
    scorer: ImageScorer | None = None,
    metrics: CollectorRegistry | None = None,
) -> tuple[GatewayService, GatewayRenderer]:
    instructions = Instructions.load(settings.prompts_file)

    def steps() -> PromptSteps:
        return PromptSteps(llm=llm(), instructions=instructions)

    renderer = GatewayRenderer(
        engine=engine,
        models=models,
        steps=steps,
        scorer=scorer or OpenNsfwScorer(),
        metrics=metrics,
    )
    service = GatewayService(
        settings=settings, jobs=jobs, models=models, steps=steps, renderer=renderer
    )
    return service, renderer


def with_gateway_queues(jobs: JobsSettings, gateway: GatewaySettings) -> JobsSettings:
    """Job settings whose queues include one bounded queue per gateway endpoint.

    An explicit ``jobs.queues`` entry for the same queue wins.
    """
    queues = {
        gateway.queue_of(name): QueueSettings(capacity=endpoint.capacity)
        for name, endpoint in gateway.endpoints.items()
    }
    return jobs.model_copy(update={"queues": {**queues, **jobs.queues}})
