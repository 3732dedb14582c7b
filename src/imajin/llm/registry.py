"""The backend registry: backend names to classes, built-ins included.

Built-in backends register here exactly as third-party ones do::

    from imajin.llm import register_backend
    register_backend("my-server", MyServerBackend)

Registering imports nothing heavy: backends import their libraries on first use.
"""

from __future__ import annotations

from imajin.llm.backends.llamacpp import LlamaCppBackend
from imajin.llm.backends.openai_compat import OpenAICompatBackend
from imajin.llm.backends.transformers_gguf import TransformersGGUFBackend
from imajin.llm.backends.transformers_vlm import TransformersVLMBackend
from imajin.llm.base import LLMBackend
from imajin.llm.errors import UnknownBackend
from imajin.llm.scripted import ScriptedBackend
from imajin.plugins import PluginRegistry

_BACKENDS: PluginRegistry[LLMBackend] = PluginRegistry(
    LLMBackend,
    noun="LLM backend",
    unknown=UnknownBackend,
    fix="Fix the backend key under llm.models, or register the backend before loading config.",
)


def register_backend(name: str, cls: type[LLMBackend], *, replace: bool = False) -> None:
    """Make ``cls`` available under ``name`` (the ``backend`` key of a model definition).

    Args:
        name: Lower-case name: letters, digits, ``-`` and ``_``.
        cls: A concrete :class:`LLMBackend` subclass.
        replace: Allow replacing a backend already registered under ``name``.

    Raises:
        ValueError: The name is malformed, ``cls`` is no backend, or the name is taken.
    """
    _BACKENDS.register(name, cls, replace=replace)


def backend_class(name: str) -> type[LLMBackend]:
    """The backend class registered as ``name``.

    Raises:
        UnknownBackend: Nothing is registered under ``name``; the message lists what is.
    """
    return _BACKENDS.get(name)


def backend_names() -> list[str]:
    """Names of every registered backend, sorted."""
    return _BACKENDS.names()


register_backend("transformers-gguf", TransformersGGUFBackend)
register_backend("transformers-vlm", TransformersVLMBackend)
register_backend("llamacpp", LlamaCppBackend)
register_backend("openai", OpenAICompatBackend)
register_backend("scripted", ScriptedBackend)
