"""LLM client abstraction and backends: embedded GGUF, local VLM, llama.cpp, OpenAI-compatible,
scripted.

Callers hold an :class:`LLMClient` (usually from :class:`LLMRegistry`, built from
:class:`LLMSettings`) and ask it for text (:meth:`LLMClient.complete`) or for a
validated pydantic object (:meth:`LLMClient.complete_structured`), sync or async.
Backends subclass :class:`LLMBackend` and register with :func:`register_backend`.
A user :class:`Message` may carry images (:class:`MessageImage`) for models whose
backend has the ``vision`` capability (:meth:`LLMBackend.sees_images`).

Importing this package loads no model and no torch; backends import their
libraries on first use.
"""

from __future__ import annotations

from imajin.config.llm import CallPolicy
from imajin.llm.base import BackendOptions, LLMBackend
from imajin.llm.client import LLMClient, ModelResolver, ResolvedModel, StaticModels
from imajin.llm.errors import (
    BackendNotInstalled,
    ImagesNotSupported,
    InvalidSchema,
    LLMConfigError,
    LLMError,
    LLMOutputError,
    LLMRequestRejected,
    LLMTimeout,
    LLMUnavailable,
    LLMUpstreamError,
    ScriptExhausted,
    UnknownBackend,
    UnknownModel,
)
from imajin.llm.messages import (
    Completion,
    CompletionRequest,
    Message,
    MessageImage,
    PromptGuard,
)
from imajin.llm.model_registry import LLMRegistry
from imajin.llm.registry import backend_class, backend_names, register_backend
from imajin.llm.scripted import ScriptedBackend
from imajin.llm.settings import LLMSettings, ModelDefinition

__all__ = [
    "BackendNotInstalled",
    "BackendOptions",
    "CallPolicy",
    "Completion",
    "CompletionRequest",
    "ImagesNotSupported",
    "InvalidSchema",
    "LLMBackend",
    "LLMClient",
    "LLMConfigError",
    "LLMError",
    "LLMOutputError",
    "LLMRegistry",
    "LLMRequestRejected",
    "LLMSettings",
    "LLMTimeout",
    "LLMUnavailable",
    "LLMUpstreamError",
    "Message",
    "MessageImage",
    "ModelDefinition",
    "ModelResolver",
    "PromptGuard",
    "ResolvedModel",
    "ScriptExhausted",
    "ScriptedBackend",
    "StaticModels",
    "UnknownBackend",
    "UnknownModel",
    "backend_class",
    "backend_names",
    "register_backend",
]
