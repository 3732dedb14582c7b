"""The engine: text-to-image with diffusers (SPEC §2). Never imports api, store or jobs.

Start with :func:`build_engine` (settings → :class:`Engine`), then
``engine.generate(GenerationRequest(...))``; save results with ``engine.save``
and read them back with :func:`read_metadata`.

Names are imported lazily: ``from imajin.engine import GenerationRequest`` does
not import torch or diffusers; using ``Engine`` or ``build_engine`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imajin.lazy import lazy_attributes

if TYPE_CHECKING:
    from imajin.engine.engine import (
        Engine,
        GeneratedImage,
        GenerationPlan,
        GenerationResult,
        ModelStatus,
        NegativePromptBuilder,
    )
    from imajin.engine.errors import (
        EngineError,
        GenerationCancelled,
        IncompatibleLora,
        ModelLoadError,
    )
    from imajin.engine.factory import build_engine
    from imajin.engine.generate import CancelCheck, Progress, ProgressCallback
    from imajin.engine.metadata import format_parameters, read_metadata, save_image
    from imajin.engine.parameters import AppliedLora, GenerationParameters
    from imajin.engine.registry import ModelRegistry
    from imajin.engine.request import GenerationRequest, LoraRequest
    from imajin.engine.schedulers import SCHEDULER_NAMES
    from imajin.engine.settings import EngineSettings, StyleDefaults
    from imajin.engine.spec import ModelSpec

_LAZY = {
    "AppliedLora": "imajin.engine.parameters",
    "CancelCheck": "imajin.engine.generate",
    "Engine": "imajin.engine.engine",
    "EngineError": "imajin.engine.errors",
    "EngineSettings": "imajin.engine.settings",
    "GeneratedImage": "imajin.engine.engine",
    "GenerationCancelled": "imajin.engine.errors",
    "GenerationParameters": "imajin.engine.parameters",
    "GenerationPlan": "imajin.engine.engine",
    "GenerationRequest": "imajin.engine.request",
    "GenerationResult": "imajin.engine.engine",
    "IncompatibleLora": "imajin.engine.errors",
    "LoraRequest": "imajin.engine.request",
    "ModelLoadError": "imajin.engine.errors",
    "ModelRegistry": "imajin.engine.registry",
    "ModelSpec": "imajin.engine.spec",
    "ModelStatus": "imajin.engine.engine",
    "NegativePromptBuilder": "imajin.engine.engine",
    "Progress": "imajin.engine.generate",
    "ProgressCallback": "imajin.engine.generate",
    "SCHEDULER_NAMES": "imajin.engine.schedulers",
    "StyleDefaults": "imajin.engine.settings",
    "build_engine": "imajin.engine.factory",
    "format_parameters": "imajin.engine.metadata",
    "read_metadata": "imajin.engine.metadata",
    "save_image": "imajin.engine.metadata",
}

__all__ = [
    "SCHEDULER_NAMES",
    "AppliedLora",
    "CancelCheck",
    "Engine",
    "EngineError",
    "EngineSettings",
    "GeneratedImage",
    "GenerationCancelled",
    "GenerationParameters",
    "GenerationPlan",
    "GenerationRequest",
    "GenerationResult",
    "IncompatibleLora",
    "LoraRequest",
    "ModelLoadError",
    "ModelRegistry",
    "ModelSpec",
    "ModelStatus",
    "NegativePromptBuilder",
    "Progress",
    "ProgressCallback",
    "StyleDefaults",
    "build_engine",
    "format_parameters",
    "read_metadata",
    "save_image",
]


__getattr__ = lazy_attributes(__name__, _LAZY)
