"""The gateway's endpoints (SPEC §6.1, §6.3): chat images, their sub-steps, imagegen.

An image endpoint answers 202 with a job id when the job outlives its timeout;
those calls return :class:`~imajin.contracts.gateway.Accepted` then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from imajin.client.call import Call, json_as, segment, validated
from imajin.contracts.gateway import (
    Accepted,
    CaptionRequest,
    CaptionResponse,
    ChatImageRequest,
    ChatImageResponse,
    ChatKind,
    ExpandRequest,
    ExpandResponse,
    ImagegenRequest,
    ImagegenResponse,
)

__all__ = ["caption", "chat_image", "expand", "imagegen"]

# The chat image path of each kind; SPEC §6.1 names 1to1's differently.
_CHAT_PATHS: dict[str, str] = {
    "1to1": "/v1/chat/1to1/imagegen",
    "shorts": "/v1/chat/shorts/generate",
    "scenes": "/v1/chat/scenes/generate",
}


R = TypeVar("R", bound=BaseModel)


def _body(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_unset=True)


def _image_or_accepted(kind: type[R]) -> Callable[[httpx.Response], R | Accepted]:
    def parse(response: httpx.Response) -> R | Accepted:
        if response.status_code == 202:
            return Accepted.model_validate(response.json())
        return kind.model_validate(response.json())

    return parse


def chat_image(
    kind: ChatKind, request: ChatImageRequest | Mapping[str, Any]
) -> Call[ChatImageResponse | Accepted]:
    """``POST /v1/chat/{1to1/imagegen, shorts/generate, scenes/generate}``: a chat's image.

    Raises:
        ValueError: ``kind`` is not ``1to1``, ``shorts`` or ``scenes``.
    """
    if kind not in _CHAT_PATHS:
        raise ValueError(f"`kind` must be one of {', '.join(_CHAT_PATHS)}; got {kind!r}.")
    payload = _body(validated(ChatImageRequest, request))
    parse = _image_or_accepted(ChatImageResponse)
    return Call("POST", _CHAT_PATHS[kind], parse, json=payload, ok=(200, 202))


def expand(kind: ChatKind, request: ExpandRequest | Mapping[str, Any]) -> Call[ExpandResponse]:
    """``POST /v1/chat/{kind}/expand``: the image prompt a chat would be drawn from."""
    payload = _body(validated(ExpandRequest, request))
    return Call("POST", f"/v1/chat/{segment(kind)}/expand", json_as(ExpandResponse), json=payload)


def caption(prompt: str) -> Call[CaptionResponse]:
    """``POST /v1/chat/1to1/caption``: a short, safe caption for a prompt."""
    payload = _body(CaptionRequest(prompt=prompt))
    return Call("POST", "/v1/chat/1to1/caption", json_as(CaptionResponse), json=payload)


def imagegen(request: ImagegenRequest | Mapping[str, Any]) -> Call[ImagegenResponse | Accepted]:
    """``POST /v1/imagegen``: an image from a prompt, under the general endpoint's policy."""
    payload = _body(validated(ImagegenRequest, request))
    parse = _image_or_accepted(ImagegenResponse)
    return Call("POST", "/v1/imagegen", parse, json=payload, ok=(200, 202))
