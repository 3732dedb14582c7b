"""Gateway request and response bodies (SPEC §6.1, §6.3); every field name is contract."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, field_validator

from imajin.contracts.common import WholeFloat

ChatKind = Literal["1to1", "shorts", "scenes"]
MAX_MESSAGE = 20_000  # the configured limit (gateway.max_message_chars) is usually lower
MAX_HISTORY = 500


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatTurn(_Body):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_MESSAGE)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


class ExpandRequest(_Body):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE)
    history: list[ChatTurn] = Field(default_factory=list, max_length=MAX_HISTORY)
    persona: str | None = Field(None, max_length=2000)

    _message = field_validator("message")(_not_blank)


class ChatImageRequest(ExpandRequest):
    seed: Annotated[StrictInt | None, Field(ge=0, le=2**32 - 1), WholeFloat] = None
    width: Annotated[StrictInt | None, Field(ge=64, le=2048, multiple_of=8), WholeFloat] = None
    height: Annotated[StrictInt | None, Field(ge=64, le=2048, multiple_of=8), WholeFloat] = None
    model: str | None = Field(None, min_length=1, max_length=200)


class CaptionRequest(_Body):
    prompt: str = Field(min_length=1, max_length=MAX_MESSAGE)

    _prompt = field_validator("prompt")(_not_blank)


class ImagegenRequest(_Body):
    prompt: str = Field(min_length=1, max_length=MAX_MESSAGE)
    negative_prompt: str | None = Field(None, max_length=MAX_MESSAGE)
    width: Annotated[StrictInt | None, Field(ge=64, le=2048, multiple_of=8), WholeFloat] = None
    height: Annotated[StrictInt | None, Field(ge=64, le=2048, multiple_of=8), WholeFloat] = None
    steps: Annotated[StrictInt | None, Field(ge=1, le=100), WholeFloat] = None
    guidance: StrictFloat | None = Field(None, ge=0.0, le=20.0)
    seed: Annotated[StrictInt | None, Field(ge=0, le=2**32 - 1), WholeFloat] = None
    model: str | None = Field(None, min_length=1, max_length=200)

    _prompt = field_validator("prompt")(_not_blank)


class OutputCheck(_Body):
    model: str
    score: float
    threshold: float
    passed: bool


class PolicyReport(_Body):
    endpoint_policy: Literal["unrestricted", "moderated", "sfw"]
    constraints_applied: list[str]
    negative_prompt_used: bool
    output_check: OutputCheck | None


class ExpandResponse(_Body):
    prompt: str
    shortened_message: str | None
    policy: PolicyReport


class CaptionResponse(_Body):
    caption: str


class ImagegenResponse(_Body):
    image_base64: str
    prompt_used: str
    seed: int
    model: str
    job_id: str
    policy: PolicyReport


class ChatImageResponse(ImagegenResponse):
    caption: str


class Accepted(_Body):
    """202: the job goes on past the endpoint's timeout; poll or stream it."""

    job_id: str
