"""The gateway's endpoints (SPEC §6.1, §6.3): chat images, their sub-steps, imagegen.

An image endpoint answers 202 with a job id when the job outlives its timeout;
those calls return :class:`~imajin.contracts.gateway.Accepted` then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from imajin.client.call import Call, json_as, no_content, segment, validated
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
from imajin.contracts.profile import (
    AvatarStyle,
    ProfileAnalyzeResponse,
    ProfileCreateResponse,
    ProfileGenerateRequest,
    ProfileGenerateResponse,
)

__all__ = [
    "caption",
    "chat_image",
    "delete_selfie",
    "expand",
    "imagegen",
    "profile_analyze",
    "profile_create",
    "profile_generate",
]

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


def _selfie(selfie: bytes, filename: str) -> dict[str, tuple[str, bytes, str]]:
    # The server sniffs the format from the bytes; the type sent here is only a label.
    return {"selfie": (filename, selfie, "application/octet-stream")}


def profile_analyze(
    selfie: bytes, *, filename: str = "selfie"
) -> Call[ProfileAnalyzeResponse | Accepted]:
    """``POST /v1/profile/analyze``: the face (box, quality) and features of a selfie."""
    parse = _image_or_accepted(ProfileAnalyzeResponse)
    return Call(
        "POST", "/v1/profile/analyze", parse, files=_selfie(selfie, filename), ok=(200, 202)
    )


def profile_create(
    selfie: bytes, *, style: AvatarStyle | None = None, filename: str = "selfie"
) -> Call[ProfileCreateResponse | Accepted]:
    """``POST /v1/profile/create``: selfie → face → features → avatar in one job."""
    parse = _image_or_accepted(ProfileCreateResponse)
    data: dict[str, str] | None = {"style": style} if style else None
    return Call(
        "POST",
        "/v1/profile/create",
        parse,
        files=_selfie(selfie, filename),
        data=data,
        ok=(200, 202),
    )


def profile_generate(
    request: ProfileGenerateRequest | Mapping[str, Any],
) -> Call[ProfileGenerateResponse | Accepted]:
    """``POST /v1/profile/generate``: an avatar from features (no vision model needed)."""
    payload = _body(validated(ProfileGenerateRequest, request))
    parse = _image_or_accepted(ProfileGenerateResponse)
    return Call("POST", "/v1/profile/generate", parse, json=payload, ok=(200, 202))


def delete_selfie(selfie_id: str) -> Call[None]:
    """``DELETE /v1/profile/selfies/{selfie_id}``: remove a kept selfie now."""
    return Call("DELETE", f"/v1/profile/selfies/{segment(selfie_id)}", no_content, ok=(204,))
