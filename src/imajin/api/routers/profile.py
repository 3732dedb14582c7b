"""Profile endpoints (SPEC §6.2): selfie → face → features → avatar.

The router translates HTTP only: it reads the multipart upload into memory
(:mod:`imajin.api.uploads`, never a temporary file) and hands it to
:class:`ProfileService`. Like the chat routes, a request waits for its job on the
event loop and answers 202 ``{job_id}`` past the endpoint's timeout.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Path, Request, Response, status

from imajin.api.auth import GenerateAccess
from imajin.api.openapi import error_responses
from imajin.api.routers.gateway import waited
from imajin.api.uploads import read_selfie_form
from imajin.contracts.gateway import Accepted
from imajin.contracts.profile import (
    AvatarStyle,
    ProfileAnalyzeResponse,
    ProfileCreateResponse,
    ProfileGenerateRequest,
    ProfileGenerateResponse,
    selfie_form,
)
from imajin.errors import InvalidInput
from imajin.gateway.profile_service import ProfileService
from imajin.gateway.selfies import SELFIE_ID_PATTERN

router = APIRouter(prefix="/v1/profile", tags=["profile"], dependencies=[GenerateAccess])


async def get_profile(request: Request) -> ProfileService:
    profile: ProfileService = request.app.state.profile
    return profile


ProfileDep = Annotated[ProfileService, Depends(get_profile)]

_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": Accepted, "description": "Still running: poll the job."},
    **error_responses(429, 502, 503, 504),
}
# The multipart body is read by hand (no body field), so its errors are declared here.
_UPLOAD = {**_ACCEPTED, **error_responses(400, 413, 422)}
_STYLES: tuple[str, ...] = get_args(AvatarStyle)


def _style(value: str | None) -> AvatarStyle | None:
    if value is None or value == "":
        return None
    for style in _STYLES:
        if value == style:
            return style  # type: ignore[return-value]  # one of AvatarStyle's literals
    raise InvalidInput(
        f"`style` must be one of {', '.join(_STYLES)}; got {value!r}.", field="style"
    )


@router.post(
    "/analyze",
    response_model=ProfileAnalyzeResponse,
    responses=_UPLOAD,
    openapi_extra={"requestBody": selfie_form(style=False)},
)
async def analyze(request: Request, profile: ProfileDep) -> object:
    form = await read_selfie_form(request, max_bytes=profile.settings.max_bytes)
    return await waited(profile.gateway, lambda: profile.submit_analyze(form.selfie))


@router.post(
    "/create",
    response_model=ProfileCreateResponse,
    responses=_UPLOAD,
    openapi_extra={"requestBody": selfie_form(style=True)},
)
async def create(request: Request, profile: ProfileDep) -> object:
    form = await read_selfie_form(request, max_bytes=profile.settings.max_bytes)
    style = _style(form.fields.get("style"))
    return await waited(profile.gateway, lambda: profile.submit_create(form.selfie, style=style))


@router.post("/generate", response_model=ProfileGenerateResponse, responses=_ACCEPTED)
async def generate(body: ProfileGenerateRequest, profile: ProfileDep) -> object:
    return await waited(profile.gateway, lambda: profile.submit_generate(body))


@router.delete(
    "/selfies/{selfie_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404),
)
def delete_selfie(
    selfie_id: Annotated[str, Path(pattern=SELFIE_ID_PATTERN)], profile: ProfileDep
) -> Response:
    profile.delete_selfie(selfie_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
