"""What goes to a backend and what comes back: chat messages, requests, completions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


class Message(BaseModel):
    """One chat message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role = Field(description="Who speaks: system (instructions), user or assistant.")
    content: str = Field(description="The message text.")

    @classmethod
    def system(cls, content: str) -> Message:
        """A system message (instructions for the model)."""
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str) -> Message:
        """A user message (the question)."""
        return cls(role="user", content=content)

    @classmethod
    def assistant(cls, content: str) -> Message:
        """An assistant message (an earlier answer of the model)."""
        return cls(role="assistant", content=content)


PromptGuard = Callable[[list[Message]], None]
"""Called with every prompt just before it is sent; raises (or logs) to veto it."""


class CompletionRequest(BaseModel):
    """Everything a backend needs for one completion; the client fills every field.

    Backends read the fields they support and ignore ``json_schema`` when they do not
    declare ``supports_json_schema`` (the client then only validates the answer).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: tuple[Message, ...] = Field(description="The conversation, oldest first.")
    json_schema: dict[str, Any] | None = Field(
        None, description="JSON schema the answer must match, or None for free text."
    )
    schema_name: str = Field("answer", description="A name for the schema (some servers need one).")
    max_tokens: int = Field(ge=1, description="Most tokens the answer may have.")
    temperature: float = Field(ge=0.0, description="0 means greedy decoding.")
    seed: int | None = Field(description="Sampling seed, for reproducible answers.")
    timeout_s: float = Field(gt=0, description="Seconds the backend may take for this answer.")


FinishReason = Literal["stop", "length"]


class Completion(BaseModel):
    """A backend's answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(description="The answer text (JSON when a schema was given).")
    finish_reason: FinishReason = Field(
        "stop", description="stop: the model ended; length: cut off at max_tokens."
    )
