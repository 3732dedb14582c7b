"""The assistant's HTTP contract (SPEC §4.1), defined in :mod:`imajin.contracts.assistant`."""

from __future__ import annotations

from imajin.contracts.assistant import (
    AnalyzeContextRequest,
    ChainStep,
    GeneratePromptsRequest,
    GeneratePromptsResponse,
    GenerationConfig,
    MaturityRange,
    ParsedPrompt,
)

__all__ = [
    "AnalyzeContextRequest",
    "ChainStep",
    "GeneratePromptsRequest",
    "GeneratePromptsResponse",
    "GenerationConfig",
    "MaturityRange",
    "ParsedPrompt",
]
