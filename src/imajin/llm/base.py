"""The base class every LLM backend implements, and the base of their options."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from imajin.llm.messages import Completion, CompletionRequest


class BackendOptions(BaseModel):
    """Base of every backend's options: unknown keys are refused, values are immutable.

    Subclasses give every field a ``description``; it is what operators read.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class LLMBackend(ABC):
    """A way to run a chat model. Subclasses implement :meth:`complete` only.

    Capabilities are declared as class attributes so callers can ask before
    sending. :meth:`acomplete` runs :meth:`complete` in a worker thread; backends
    with native async I/O override it.

    Args:
        options: The backend's validated options (an instance of ``options_type``).
    """

    options_type: ClassVar[type[BackendOptions]] = BackendOptions
    supports_json_schema: ClassVar[bool] = False
    """Honours ``CompletionRequest.json_schema`` (constrained decoding or server-side)."""
    supports_streaming: ClassVar[bool] = False
    """Can stream tokens; no built-in backend streams yet."""
    supports_vision: ClassVar[bool] = False
    """Can show a model the images of user messages; :meth:`sees_images` has the final word."""

    def __init__(self, options: BackendOptions) -> None:
        if not isinstance(options, self.options_type):
            raise TypeError(
                f"{type(self).__name__} needs {self.options_type.__name__}, "
                f"got {type(options).__name__}."
            )
        self.options = options

    @abstractmethod
    def complete(self, request: CompletionRequest) -> Completion:
        """Answer ``request``; blocking.

        Raises:
            LLMRequestRejected: The backend refused the request as malformed.
            LLMUpstreamError: The backend failed; ``retryable`` says whether to try again.
        """

    async def acomplete(self, request: CompletionRequest) -> Completion:
        """Answer ``request`` without blocking the event loop (a worker thread by default)."""
        return await asyncio.to_thread(self.complete, request)

    def describe(self) -> str:
        """A short human-readable name of what this backend runs, for logs and ``/health``."""
        return type(self).__name__

    def close(self) -> None:  # noqa: B027  # optional hook: most backends hold nothing
        """Release connections or memory; the backend is not used again afterwards."""

    @classmethod
    def sees_images(cls, options: BackendOptions) -> bool:
        """Whether a model configured with ``options`` is shown images (the vision capability).

        Defaults to :attr:`supports_vision`; a backend whose models differ (an HTTP API
        serving text-only and vision models alike) reads it from its options.
        """
        return cls.supports_vision

    @property
    def vision(self) -> bool:
        """Whether this backend, as configured, shows the model images."""
        return self.sees_images(self.options)

    @classmethod  # noqa: B027  # optional hook: most backends need nothing extra
    def check_available(cls, options: BackendOptions) -> None:
        """Raise a :class:`~imajin.llm.errors.LLMConfigError` when ``options`` cannot work here.

        For example a missing optional dependency, model file or credential. Called
        when configuration is loaded, so such problems fail at start-up rather than
        on the first question. Must not load models or import heavy libraries.
        """
