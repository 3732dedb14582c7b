"""Named models from settings: model id -> backend instance (built once) and call policy."""

from __future__ import annotations

import json
import threading

from pydantic import ValidationError

from imajin.llm.base import BackendOptions, LLMBackend
from imajin.llm.client import LLMClient, ResolvedModel
from imajin.llm.errors import LLMConfigError, UnknownModel
from imajin.llm.messages import PromptGuard
from imajin.llm.registry import backend_class
from imajin.llm.settings import LLMSettings
from imajin.llm.structured import describe_validation_error


class LLMRegistry:
    """Resolves model ids to configured backends; every definition is checked up front.

    Backends are built on first use and cached; two ids with the same backend and
    options share one instance, so a local model is loaded once.

    Args:
        settings: The ``llm`` settings section.
        prompt_guard: Passed to every client this registry hands out.

    Raises:
        UnknownBackend: A definition names an unregistered backend.
        BackendNotInstalled: A configured backend's optional dependency is missing.
        LLMConfigError: A definition's options fail validation (the message names the key).
    """

    def __init__(self, settings: LLMSettings, *, prompt_guard: PromptGuard | None = None) -> None:
        self.settings = settings
        self._prompt_guard = prompt_guard
        self._options: dict[str, BackendOptions] = {}
        for model_id, definition in settings.models.items():
            cls = backend_class(definition.backend)
            try:
                options = cls.options_type.model_validate(definition.options)
            except ValidationError as error:
                raise LLMConfigError(
                    f"llm.models.{model_id}.options are invalid for backend "
                    f"{definition.backend!r}: {describe_validation_error(error)}"
                ) from None
            cls.check_available(options)
            self._options[model_id] = options
        self._lock = threading.Lock()
        self._backends: dict[str, LLMBackend] = {}
        self._clients: dict[str | None, LLMClient] = {}

    @property
    def model_ids(self) -> list[str]:
        """Every configured model id, sorted."""
        return sorted(self.settings.models)

    @property
    def default_model_id(self) -> str:
        """The model used when a caller names none."""
        return self.settings.default_model

    def resolve(self, model_id: str | None) -> ResolvedModel:
        """The backend and call policy for ``model_id`` (None: the default model).

        Raises:
            UnknownModel: ``model_id`` is not configured; the message lists known ids.
        """
        model_id = self.default_model_id if model_id is None else model_id
        if model_id not in self._options:
            raise UnknownModel(
                f"No LLM model {model_id!r} configured — known: {', '.join(self.model_ids)}; "
                "add one under llm.models in config.yaml."
            )
        return ResolvedModel(
            model_id=model_id,
            backend=self._backend(model_id),
            policy=self.settings.policy_for(model_id),
        )

    def sees_images(self, model_id: str) -> bool:
        """Whether model ``model_id`` has the vision capability; builds and loads nothing.

        Raises:
            UnknownModel: ``model_id`` is not configured.
        """
        if model_id not in self._options:
            self.resolve(model_id)  # raises UnknownModel, listing the known ids
        cls = backend_class(self.settings.models[model_id].backend)
        return cls.sees_images(self._options[model_id])

    def client_for(self, model_id: str | None = None) -> LLMClient:
        """A client whose calls default to ``model_id`` (None: the configured default).

        Raises:
            UnknownModel: ``model_id`` is not configured.
        """
        if model_id is not None:
            self.resolve(model_id)  # fail now, not on the first question
        with self._lock:
            client = self._clients.get(model_id)
            if client is None:
                client = LLMClient(
                    resolver=self, model_id=model_id, prompt_guard=self._prompt_guard
                )
                self._clients[model_id] = client
            return client

    def describe(self) -> dict[str, str]:
        """Model id -> backend name, for ``/health`` and logs; loads nothing."""
        return {model_id: self.settings.models[model_id].backend for model_id in self.model_ids}

    def close(self) -> None:
        """Close every backend built so far."""
        with self._lock:
            backends, self._backends = list(self._backends.values()), {}
        for backend in {id(backend): backend for backend in backends}.values():
            backend.close()

    def _backend(self, model_id: str) -> LLMBackend:
        definition = self.settings.models[model_id]
        # Keyed by the options as configured: a dump of the validated ones would mask secrets.
        key = f"{definition.backend}:{json.dumps(definition.options, sort_keys=True, default=str)}"
        with self._lock:
            backend = self._backends.get(key)
            if backend is None:
                backend = backend_class(definition.backend)(self._options[model_id])
                self._backends[key] = backend
            return backend
