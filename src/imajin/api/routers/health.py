"""Health endpoints: open to everyone, for load balancers and the source systems' clients.

The routes are ``async`` and take the platform from the request, not through a sync
dependency: nothing here runs in the request thread pool, so a probe answers while a
burst holds every pool thread (the checks themselves run on a background thread,
see :mod:`imajin.health`).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from imajin import __version__
from imajin.assistant import llm_health
from imajin.storage.local import StorageHealth
from imajin.wiring import Platform

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    service: str
    version: str
    database: Literal["ok", "unavailable"]
    storage: StorageHealth
    llm: dict[str, Any] | None = None


def _health(request: Request) -> JSONResponse:
    platform: Platform = request.app.state.platform
    snapshot = platform.health.current()
    body = HealthPublic(
        status="ok" if snapshot.healthy else "degraded",
        # The variations contract (SPEC §3.2) names the service "image-generator".
        service="image-generator",
        version=__version__,
        database="ok" if snapshot.database_ok else "unavailable",
        storage=snapshot.storage,
        **llm_health(platform.assistant),  # the prompt assistant's backend and model
    )
    return JSONResponse(
        body.model_dump(by_alias=True), status_code=200 if snapshot.healthy else 503
    )


@router.get("/health", response_model=HealthPublic, summary="Platform health")
async def health(request: Request) -> JSONResponse:
    return _health(request)


@router.get("/healthz", response_model=HealthPublic, summary="Health (gateway path)")
async def healthz(request: Request) -> JSONResponse:
    return _health(request)


@router.get("/api/health", response_model=HealthPublic, summary="Health (studio path)")
async def api_health(request: Request) -> JSONResponse:
    return _health(request)
