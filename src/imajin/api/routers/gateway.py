"""S5 gateway endpoints (SPEC §6.1, §6.3): chat images, their sub-steps, general imagegen.

The router translates HTTP only; :class:`GatewayService` does the work. It
depends on the service (``GatewayDep``), not on the platform.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from imajin.api.auth import GenerateAccess
from imajin.api.errors import error_response
from imajin.api.openapi import error_responses
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
from imajin.gateway.errors import StageTimeout
from imajin.gateway.service import GatewayService

router = APIRouter(prefix="/v1", tags=["gateway"], dependencies=[GenerateAccess])

T = TypeVar("T")


def get_gateway(request: Request) -> GatewayService:
    gateway: GatewayService = request.app.state.gateway
    return gateway


GatewayDep = Annotated[GatewayService, Depends(get_gateway)]

# Every step may fail upstream (502/503: the LLM or the job) or time out (504).
_STEP = error_responses(429, 502, 503, 504)
_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": Accepted, "description": "Still running: poll the job."},
    **error_responses(404),  # the model
    **_STEP,
}


def _answer(call: Callable[[], T]) -> T | JSONResponse:
    """The service's answer; 202 for a job past its timeout, 504 for a stage timeout."""
    try:
        result = call()
    except StageTimeout as exc:
        return error_response(504, exc.to_dict())
    if isinstance(result, Accepted):
        return JSONResponse(result.model_dump(), status_code=202)
    return result


# Plain `def` routes: FastAPI runs them on its thread pool, where waiting on a job is fine.
@router.post("/chat/1to1/imagegen", response_model=ChatImageResponse, responses=_ACCEPTED)
def chat_1to1(body: ChatImageRequest, gateway: GatewayDep) -> object:
    return _answer(lambda: gateway.chat_image("1to1", body))


@router.post("/chat/shorts/generate", response_model=ChatImageResponse, responses=_ACCEPTED)
def chat_shorts(body: ChatImageRequest, gateway: GatewayDep) -> object:
    return _answer(lambda: gateway.chat_image("shorts", body))


@router.post("/chat/scenes/generate", response_model=ChatImageResponse, responses=_ACCEPTED)
def chat_scenes(body: ChatImageRequest, gateway: GatewayDep) -> object:
    return _answer(lambda: gateway.chat_image("scenes", body))


@router.post("/chat/{kind}/expand", response_model=ExpandResponse, responses=_STEP)
def chat_expand(kind: ChatKind, body: ExpandRequest, gateway: GatewayDep) -> object:
    return _answer(lambda: gateway.expand(kind, body))


@router.post("/chat/1to1/caption", response_model=CaptionResponse, responses=_STEP)
def chat_caption(body: CaptionRequest, gateway: GatewayDep) -> object:
    return _answer(lambda: gateway.caption(body))


@router.post("/imagegen", response_model=ImagegenResponse, responses=_ACCEPTED)
def imagegen(body: ImagegenRequest, gateway: GatewayDep) -> object:
    return _answer(lambda: gateway.imagegen(body))
