"""One parameters model per gateway job kind, shared by the service (submit) and the handler."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from imajin.config.gateway import EndpointName, PolicyName
from imajin.contracts.gateway import ChatTurn

CHAT_IMAGE_JOB = "chat_image"
IMAGEGEN_JOB = "imagegen"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: EndpointName
    policy: PolicyName
    model: str = Field(description="The resolved image model id.")
    seed: int | None = None
    width: int | None = None
    height: int | None = None
    threshold: float | None = Field(description="Output check threshold; None = no check.")


class ChatImageParams(_Params):
    message: str
    history: list[ChatTurn] = Field(default_factory=list)
    persona: str | None = None


class ImagegenParams(_Params):
    prompt: str
    negative_prompt: str | None = None
    steps: int | None = None
    guidance: float | None = None
