"""The facade callers use: text and structured completions, sync and async.

The client resolves a model id to a backend and call policy, runs the prompt
guard on every prompt it sends, retries upstream failures with backoff, and
validates structured answers (feeding problems back to the model, bounded).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from imajin.config.llm import CallPolicy
from imajin.llm.base import LLMBackend
from imajin.llm.errors import ImagesNotSupported, UnknownModel
from imajin.llm.messages import Completion, CompletionRequest, Message, PromptGuard
from imajin.llm.policy import acall_with_retries, call_with_retries
from imajin.llm.structured import OutputT, StructuredConversation, with_schema_instruction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedModel:
    """A model id with the backend that runs it and the policy for calling it."""

    model_id: str
    backend: LLMBackend
    policy: CallPolicy


class ModelResolver(Protocol):
    """Turns a model id (None: the default) into a :class:`ResolvedModel`."""

    def resolve(self, model_id: str | None) -> ResolvedModel:
        """The model ``model_id`` names; raises :class:`~imajin.llm.errors.UnknownModel`."""
        ...


@dataclass(frozen=True)
class StaticModels:
    """A fixed set of already-built models, for tests and embedding without settings."""

    models: Mapping[str, ResolvedModel]
    default: str

    def resolve(self, model_id: str | None) -> ResolvedModel:
        """The model ``model_id`` names (None: the default).

        Raises:
            UnknownModel: ``model_id`` is not one of ``models``.
        """
        model_id = self.default if model_id is None else model_id
        try:
            return self.models[model_id]
        except KeyError:
            raise UnknownModel(
                f"No LLM model {model_id!r} in this client — known: "
                f"{', '.join(sorted(self.models))}; pass it to LLMClient.for_backends."
            ) from None


class LLMClient:
    """Ask configured models questions; see the module docstring for what it adds.

    Args:
        resolver: Resolves model ids (an :class:`~imajin.llm.model_registry.LLMRegistry`).
        model_id: The model used when a call names none; None means the resolver's default.
        prompt_guard: Called with every prompt just before it is sent (rule-1 checks).
    """

    def __init__(
        self,
        *,
        resolver: ModelResolver,
        model_id: str | None = None,
        prompt_guard: PromptGuard | None = None,
    ) -> None:
        self._resolver = resolver
        self._model_id = model_id
        self._prompt_guard = prompt_guard

    @classmethod
    def for_backend(
        cls,
        backend: LLMBackend,
        *,
        policy: CallPolicy | None = None,
        model_id: str = "default",
        prompt_guard: PromptGuard | None = None,
    ) -> LLMClient:
        """A client for one backend instance, without settings (tests, scripts)."""
        return cls.for_backends(
            {model_id: backend}, default=model_id, policy=policy, prompt_guard=prompt_guard
        )

    @classmethod
    def for_backends(
        cls,
        backends: Mapping[str, LLMBackend],
        *,
        default: str,
        policy: CallPolicy | None = None,
        prompt_guard: PromptGuard | None = None,
    ) -> LLMClient:
        """A client for several backend instances by model id, all under one ``policy``.

        Raises:
            ValueError: ``default`` is not a key of ``backends``.
        """
        if default not in backends:
            raise ValueError(f"`default` {default!r} is not one of the ids {sorted(backends)}.")
        policy = policy or CallPolicy()
        models = {
            model_id: ResolvedModel(model_id=model_id, backend=backend, policy=policy)
            for model_id, backend in backends.items()
        }
        return cls(resolver=StaticModels(models, default), prompt_guard=prompt_guard)

    def resolve(self, model: str | None = None) -> ResolvedModel:
        """The model a call with ``model=model`` would use."""
        return self._resolver.resolve(model if model is not None else self._model_id)

    # -- text -------------------------------------------------------------------------------

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: dict[str, Any] | None = None,
        model: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """The model's answer to ``messages``.

        Args:
            messages: The conversation, oldest first.
            schema: A JSON schema the answer must match; enforced where the backend can,
                not validated here (use :meth:`complete_structured` for that).
            model: A configured model id; None for this client's default.
            timeout: Seconds per attempt; None for the model's configured timeout.

        Raises:
            UnknownModel: ``model`` is not configured.
            LLMRequestRejected: The backend refused the request (not retried).
            LLMUpstreamError: The backend failed after the configured retries.
        """
        resolved = self.resolve(model)
        request = self._text_request(resolved, messages, schema, timeout)
        return self._send(resolved, request).text

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        schema: dict[str, Any] | None = None,
        model: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """The async form of :meth:`complete`."""
        resolved = self.resolve(model)
        request = self._text_request(resolved, messages, schema, timeout)
        return (await self._asend(resolved, request)).text

    # -- structured -------------------------------------------------------------------------

    def complete_structured(
        self,
        messages: Sequence[Message],
        output_type: type[OutputT],
        *,
        model: str | None = None,
        timeout: float | None = None,
        output_retries: int | None = None,
    ) -> OutputT:
        """The model's answer to ``messages``, validated into ``output_type``.

        An answer that is not valid JSON or fails validation is shown back to the
        model with the problem, up to ``output_retries`` times (None: the model's
        configured ``output_retries``). Images of user messages are sent along, to
        models with the vision capability.

        Raises:
            LLMOutputError: No answer validated; carries the last answer and problem.
            UnknownModel, LLMRequestRejected, LLMUpstreamError: As for :meth:`complete`.
        """
        resolved = self.resolve(model)
        conversation = self._conversation(resolved, messages, output_type, output_retries)
        for _attempt in conversation.attempts():
            request = self._structured_request(resolved, conversation, timeout)
            answer = conversation.accept(
                self._send(resolved, request), max_tokens=request.max_tokens
            )
            if answer is not None:
                return answer
        raise conversation.failure()

    async def acomplete_structured(
        self,
        messages: Sequence[Message],
        output_type: type[OutputT],
        *,
        model: str | None = None,
        timeout: float | None = None,
        output_retries: int | None = None,
    ) -> OutputT:
        """The async form of :meth:`complete_structured`."""
        resolved = self.resolve(model)
        conversation = self._conversation(resolved, messages, output_type, output_retries)
        for _attempt in conversation.attempts():
            request = self._structured_request(resolved, conversation, timeout)
            answer = conversation.accept(
                await self._asend(resolved, request), max_tokens=request.max_tokens
            )
            if answer is not None:
                return answer
        raise conversation.failure()

    # -- shared steps -----------------------------------------------------------------------

    @staticmethod
    def _conversation(
        resolved: ResolvedModel,
        messages: Sequence[Message],
        output_type: type[OutputT],
        output_retries: int | None,
    ) -> StructuredConversation[OutputT]:
        if output_retries is None:
            output_retries = resolved.policy.output_retries
        if output_retries < 0:
            raise ValueError(f"`output_retries` must be at least 0, not {output_retries}.")
        return StructuredConversation(
            messages,
            output_type,
            attempts=output_retries + 1,
            schema_in_prompt=resolved.policy.schema_in_prompt,
            model_id=resolved.model_id,
        )

    def _text_request(
        self,
        resolved: ResolvedModel,
        messages: Sequence[Message],
        schema: dict[str, Any] | None,
        timeout: float | None,
    ) -> CompletionRequest:
        if schema is not None and resolved.policy.schema_in_prompt:
            messages = with_schema_instruction(messages, schema)
        return self._request(resolved, messages, schema, "answer", timeout)

    def _structured_request(
        self,
        resolved: ResolvedModel,
        conversation: StructuredConversation[OutputT],
        timeout: float | None,
    ) -> CompletionRequest:
        return self._request(
            resolved, conversation.messages, conversation.schema, conversation.name, timeout
        )

    def _request(
        self,
        resolved: ResolvedModel,
        messages: Sequence[Message],
        schema: dict[str, Any] | None,
        schema_name: str,
        timeout: float | None,
    ) -> CompletionRequest:
        if not messages:
            raise ValueError("`messages` is empty; pass at least one Message to ask something.")
        if not resolved.backend.vision and any(message.images for message in messages):
            raise ImagesNotSupported(
                f"LLM model {resolved.model_id!r} ({resolved.backend.describe()}) has no vision "
                "capability, so it cannot be shown images; configure a vision model (for the "
                "openai backend set options.vision: true when the served model sees images)."
            )
        policy = resolved.policy
        request = CompletionRequest(
            messages=tuple(messages),
            # A backend that cannot constrain decoding gets no schema; the answer is validated.
            json_schema=schema if resolved.backend.supports_json_schema else None,
            schema_name=schema_name,
            max_tokens=policy.max_tokens,
            temperature=policy.temperature,
            seed=policy.seed,
            timeout_s=timeout if timeout is not None else policy.timeout_s,
        )
        if self._prompt_guard is not None:
            self._prompt_guard(list(request.messages))
        return request

    def _send(self, resolved: ResolvedModel, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        completion = call_with_retries(
            lambda: resolved.backend.complete(request),
            policy=resolved.policy,
            what=f"LLM model {resolved.model_id!r}",
        )
        _log_completion(resolved, request, completion, started)
        return completion

    async def _asend(self, resolved: ResolvedModel, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        completion = await acall_with_retries(
            lambda: resolved.backend.acomplete(request),
            policy=resolved.policy,
            what=f"LLM model {resolved.model_id!r}",
        )
        _log_completion(resolved, request, completion, started)
        return completion


def _log_completion(
    resolved: ResolvedModel, request: CompletionRequest, completion: Completion, started: float
) -> None:
    logger.debug(
        "LLM model %r answered in %.2f s",
        resolved.model_id,
        time.perf_counter() - started,
        extra={
            "llm_model": resolved.model_id,
            "llm_structured": request.json_schema is not None,
            "llm_finish_reason": completion.finish_reason,
        },
    )
