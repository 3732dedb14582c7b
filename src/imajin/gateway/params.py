"""One parameters model per gateway job kind, shared by the service (submit) and the handler."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from imajin.config.gateway import EndpointName, PolicyName
from imajin.contracts.gateway import ChatTurn

CHAT_IMAGE_JOB = "chat_image"
IMAGEGEN_JOB = "imagegen"
PROFILE_JOB = "profile"

ProfileAction = Literal["analyze", "generate", "create"]
AvatarStyle = Literal["photorealistic", "anime"]


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


class ProfileParams(_Params):
    """One profile job: ``analyze`` (detect, features), ``generate`` (features → avatar)
    or ``create`` (all three stages). The selfie itself is never in here (see
    :mod:`imajin.gateway.selfies`), only the id of where it waits."""

    action: ProfileAction
    selfie_id: str | None = Field(None, description="Where the selfie waits; analyze/create.")
    keep_selfie: bool = Field(False, description="The selfie outlives the job.")
    features: dict[str, Any] | None = Field(None, description="generate: the given features.")
    style: AvatarStyle | None = None
