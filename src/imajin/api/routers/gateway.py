"""S5 gateway endpoints (SPEC §6.1, §6.3): chat images, their sub-steps, general imagegen.

The router translates HTTP only; :class:`GatewayService` does the work. It
depends on the service (``GatewayDep``), not on the platform.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from imajin.api.auth import GenerateAccess
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
from imajin.gateway.service import GatewayService, Pending, R

router = APIRouter(prefix="/v1", tags=["gateway"], dependencies=[GenerateAccess])


async def get_gateway(request: Request) -> GatewayService:
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


async def waited(gateway: GatewayService, submit: Callable[[], Pending[R]]) -> object:
    """Submit on a worker thread (database work), then wait for the job on the event loop:
    a request waiting up to its endpoint's timeout holds no request thread. A job still
    running at the timeout answers 202 with its id (errors map by class, a stage timeout
    to 504)."""
    pending = await to_thread.run_sync(submit)
    result = await gateway.wait_async(pending)
    if isinstance(result, Accepted):
        return JSONResponse(result.model_dump(), status_code=202)
    return result


@router.post("/chat/1to1/imagegen", response_model=ChatImageResponse, responses=_ACCEPTED)
async def chat_1to1(body: ChatImageRequest, gateway: GatewayDep) -> object:
    return await waited(gateway, lambda: gateway.submit_chat_image("1to1", body))


@router.post("/chat/shorts/generate", response_model=ChatImageResponse, responses=_ACCEPTED)
async def chat_shorts(body: ChatImageRequest, gateway: GatewayDep) -> object:
    return await waited(gateway, lambda: gateway.submit_chat_image("shorts", body))


@router.post("/chat/scenes/generate", response_model=ChatImageResponse, responses=_ACCEPTED)
async def chat_scenes(body: ChatImageRequest, gateway: GatewayDep) -> object:
    return await waited(gateway, lambda: gateway.submit_chat_image("scenes", body))


@router.post("/chat/{kind}/expand", response_model=ExpandResponse, responses=_STEP)
def chat_expand(kind: ChatKind, body: ExpandRequest, gateway: GatewayDep) -> object:
    return gateway.expand(kind, body)


@router.post("/chat/1to1/caption", response_model=CaptionResponse, responses=_STEP)
def chat_caption(body: CaptionRequest, gateway: GatewayDep) -> object:
    return gateway.caption(body)


@router.post("/imagegen", response_model=ImagegenResponse, responses=_ACCEPTED)
async def imagegen(body: ImagegenRequest, gateway: GatewayDep) -> object:
    return await waited(gateway, lambda: gateway.submit_imagegen(body))
