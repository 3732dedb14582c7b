"""The prompt assistant (SPEC §4): pipelines, instance configuration, the reasoning chain.

- :func:`build_assistant` builds an :class:`AssistantService` from settings; the
  router (``imajin.api.routers.assistant``) and the CLI use it.
- ``/analyze-context`` runs the reasoning chain declared in ``chain.yaml``: every
  decision is an LLM answer weighed by the caller's :class:`InstanceConfig`
  (imajin ships none), returned as ``reasoningChain``, cached in the store.
- ``/generate-prompts`` runs the YAML pipelines in ``pipelines/`` and the operator's.
- Rule 1 (no term lists, examples or absolute rules in prompts) is guarded at run
  time by :class:`RuleOneGuard` and statically by :func:`scan_tree`.
"""

from imajin.assistant.errors import (
    AssistantConfigError,
    AssistantError,
    ExpansionBlocked,
    InstanceConfigMissing,
    InvalidInstanceConfig,
    PipelineNotFound,
    RuleOneViolation,
    StageFailed,
    StageUnavailable,
)
from imajin.assistant.instance import GoalRequest, InstanceConfig, ModelSelection
from imajin.assistant.pipeline_catalog import PipelineSpec, PipelineSummary
from imajin.assistant.rule_one import RuleOneGuard
from imajin.assistant.rule_one_scan import scan_tree
from imajin.assistant.schemas import (
    AnalyzeContextRequest,
    ChainStep,
    GeneratePromptsRequest,
    GeneratePromptsResponse,
    GenerationConfig,
    MaturityRange,
    ParsedPrompt,
)
from imajin.assistant.service import (
    AssistantService,
    build_assistant,
    compose_assistant,
    llm_health,
    prompt_guard,
)

__all__ = [
    "AnalyzeContextRequest",
    "AssistantConfigError",
    "AssistantError",
    "AssistantService",
    "ChainStep",
    "ExpansionBlocked",
    "GeneratePromptsRequest",
    "GeneratePromptsResponse",
    "GenerationConfig",
    "GoalRequest",
    "InstanceConfig",
    "InstanceConfigMissing",
    "InvalidInstanceConfig",
    "MaturityRange",
    "ModelSelection",
    "ParsedPrompt",
    "PipelineNotFound",
    "PipelineSpec",
    "PipelineSummary",
    "RuleOneGuard",
    "RuleOneViolation",
    "StageFailed",
    "StageUnavailable",
    "build_assistant",
    "compose_assistant",
    "llm_health",
    "prompt_guard",
    "scan_tree",
]
