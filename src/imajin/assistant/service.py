"""The assistant service: what the router, the CLI and the composition root hold."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from imajin.assistant.analysis import ContextAnalyzer
from imajin.assistant.cache import AnswerCache, SqlAnswerCache
from imajin.assistant.chain import ChainSpec, load_chain
from imajin.assistant.instance import InstanceCatalog
from imajin.assistant.pipeline_catalog import PipelineCatalog, PipelineSpec, PipelineSummary
from imajin.assistant.prompts import PromptPipelines
from imajin.assistant.reasoning import Asker
from imajin.assistant.rule_one import RuleOneGuard
from imajin.assistant.schemas import (
    AnalyzeContextRequest,
    GeneratePromptsRequest,
    GeneratePromptsResponse,
    GenerationConfig,
)
from imajin.config.assistant import AssistantSettings
from imajin.config.layout import DataLayout
from imajin.llm.client import LLMClient
from imajin.llm.model_registry import LLMRegistry
from imajin.store.database import Database

__all__ = [
    "AssistantService",
    "build_assistant",
    "compose_assistant",
    "llm_health",
    "prompt_guard",
]


class AssistantService:
    """Pipelines and context analysis, behind one face for the router and the CLI.

    Built by :func:`build_assistant` (from settings) or :func:`compose_assistant`
    (from parts, for tests); both ask through one :class:`Asker`.

    Args:
        analyzer: Runs the reasoning chain for ``/analyze-context``.
        prompt_pipelines: Runs the pipelines for ``/generate-prompts``.
        llm_backends: Model id to backend name, for :func:`llm_health`.
    """

    def __init__(
        self,
        *,
        analyzer: ContextAnalyzer,
        prompt_pipelines: PromptPipelines,
        llm_backends: Mapping[str, str] | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.prompt_pipelines = prompt_pipelines
        self.llm_backends = dict(llm_backends or {})

    @property
    def llm(self) -> LLMClient:
        """The client every question goes through (its prompt guard included)."""
        return self.analyzer.asker.llm

    @property
    def instances(self) -> InstanceCatalog:
        """The deployer's named instance configurations."""
        return self.analyzer.instances

    @property
    def pipelines(self) -> PipelineCatalog:
        """The pipeline catalogue."""
        return self.prompt_pipelines.catalog

    async def analyze_context(self, request: AnalyzeContextRequest) -> GenerationConfig:
        """Reason about a page's context; see :meth:`ContextAnalyzer.analyze`."""
        return await self.analyzer.analyze(request)

    async def generate_prompts(self, request: GeneratePromptsRequest) -> GeneratePromptsResponse:
        """Run a pipeline; see :meth:`PromptPipelines.generate`."""
        return GeneratePromptsResponse(prompts=await self.prompt_pipelines.generate(request))

    def list_pipelines(self) -> list[PipelineSummary]:
        """Every pipeline, sorted by id."""
        return [spec.summary() for spec in self.pipelines.all().values()]

    def get_pipeline(self, pipeline_id: str) -> PipelineSpec:
        """One pipeline; raises :class:`~imajin.assistant.errors.PipelineNotFound`."""
        return self.pipelines.get(pipeline_id)


def prompt_guard(settings: AssistantSettings) -> RuleOneGuard:
    """The rule-1 runtime guard for ``LLMRegistry(prompt_guard=...)``, per the settings."""
    return RuleOneGuard(development_mode=settings.development_mode)


def compose_assistant(
    *,
    llm: LLMClient,
    cache: AnswerCache | None,
    instances: InstanceCatalog,
    pipelines: PipelineCatalog,
    chain: ChainSpec | None = None,
    llm_backends: Mapping[str, str] | None = None,
    max_filters: int = 20,
    max_prompts: int = 50,
) -> AssistantService:
    """An assistant from its parts: one asker shared by the chain and the pipelines.

    Args:
        llm: The client every question goes through (its prompt guard included).
        cache: The answer cache; None disables caching.
        instances: The deployer's named instance configurations.
        pipelines: The pipeline catalogue.
        chain: The reasoning chain (default: the shipped ``chain.yaml``).
        llm_backends: Model id to backend name, for :func:`llm_health`.
        max_filters: Most filter terms per analyze-context request.
        max_prompts: Largest ``count`` per generate-prompts request.
    """
    asker = Asker(llm=llm, cache=cache)
    return AssistantService(
        analyzer=ContextAnalyzer(
            chain=chain or load_chain(), asker=asker, instances=instances, max_filters=max_filters
        ),
        prompt_pipelines=PromptPipelines(catalog=pipelines, asker=asker, max_prompts=max_prompts),
        llm_backends=llm_backends,
    )


def build_assistant(
    *,
    settings: AssistantSettings,
    llm: LLMRegistry,
    database: Database,
    data_dir: Path,
    base_dir: Path | None = None,
) -> AssistantService:
    """Build the assistant from its settings (the composition root calls this).

    Args:
        settings: The ``assistant`` section.
        llm: The LLM registry; build it with ``prompt_guard=prompt_guard(settings)``.
        database: Holds the answer cache (migration 0004).
        data_dir: ``<data_dir>/pipelines`` holds operator pipelines unless configured.
        base_dir: Relative instance file paths are resolved against it (default: the
            working directory).

    Raises:
        AssistantConfigError: An instance or pipeline file is invalid (the key or file named).
    """
    return compose_assistant(
        llm=llm.client_for(None),
        cache=SqlAnswerCache(database, ttl_s=settings.cache_ttl_s) if settings.cache else None,
        instances=InstanceCatalog(
            settings.instances,
            default=settings.default_instance,
            base_dir=base_dir or Path.cwd(),
        ),
        pipelines=PipelineCatalog(
            operator_dir=settings.pipelines_dir or DataLayout(data_dir).pipelines
        ),
        llm_backends=llm.describe(),
        max_filters=settings.max_filters,
        max_prompts=settings.max_prompts,
    )


def llm_health(service: AssistantService) -> dict[str, Any]:
    """The ``llm`` entry for ``/health``: the default model, its backend; loads nothing."""
    resolved = service.llm.resolve(None)
    return {
        "llm": {
            "model": resolved.model_id,
            "backend": service.llm_backends.get(resolved.model_id, resolved.backend.describe()),
            "detail": resolved.backend.describe(),
            "models": service.llm_backends or {resolved.model_id: resolved.backend.describe()},
        }
    }
