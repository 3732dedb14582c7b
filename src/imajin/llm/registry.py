"""The backend registry: backend names to classes, built-ins included.

Built-in backends register here exactly as third-party ones do::

    from imajin.llm import register_backend
    register_backend("my-server", MyServerBackend)

Registering imports nothing heavy: backends import their libraries on first use.
"""

from __future__ import annotations

import re

from imajin.llm.backends.llamacpp import LlamaCppBackend
from imajin.llm.backends.openai_compat import OpenAICompatBackend
from imajin.llm.backends.transformers_gguf import TransformersGGUFBackend
from imajin.llm.base import LLMBackend
from imajin.llm.errors import UnknownBackend
from imajin.llm.scripted import ScriptedBackend

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_BACKENDS: dict[str, type[LLMBackend]] = {}


def register_backend(name: str, cls: type[LLMBackend], *, replace: bool = False) -> None:
    """Make ``cls`` available under ``name`` (the ``backend`` key of a model definition).

    Args:
        name: Lower-case name: letters, digits, ``-`` and ``_``.
        cls: A concrete :class:`LLMBackend` subclass.
        replace: Allow replacing a backend already registered under ``name``.

    Raises:
        ValueError: The name is malformed, ``cls`` is no backend, or the name is taken.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"Backend name {name!r} is malformed: use lower-case letters, digits, '-' and '_'."
        )
    if not (isinstance(cls, type) and issubclass(cls, LLMBackend)):
        raise ValueError(f"{cls!r} is not an LLMBackend subclass, so it cannot be registered.")
    if name in _BACKENDS and not replace and _BACKENDS[name] is not cls:
        raise ValueError(
            f"Backend {name!r} is already registered ({_BACKENDS[name].__qualname__}); "
            "pass replace=True to override it."
        )
    _BACKENDS[name] = cls


def backend_class(name: str) -> type[LLMBackend]:
    """The backend class registered as ``name``.

    Raises:
        UnknownBackend: Nothing is registered under ``name``; the message lists what is.
    """
    try:
        return _BACKENDS[name]
    except KeyError:
        raise UnknownBackend(
            f"No LLM backend {name!r} — registered: {', '.join(backend_names())}. "
            "Fix the backend key under llm.models, or register the backend before loading config."
        ) from None


def backend_names() -> list[str]:
    """Names of every registered backend, sorted."""
    return sorted(_BACKENDS)


register_backend("transformers-gguf", TransformersGGUFBackend)
register_backend("llamacpp", LlamaCppBackend)
register_backend("openai", OpenAICompatBackend)
register_backend("scripted", ScriptedBackend)
