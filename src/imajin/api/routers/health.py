"""Health endpoints: open to everyone, for load balancers and the source systems' clients."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from imajin import __version__
from imajin.api.deps import PlatformDep
from imajin.assistant import llm_health
from imajin.contracts.common import HealthPublic

router = APIRouter(tags=["health"])


def _health(platform: PlatformDep) -> JSONResponse:
    storage = platform.storage.health()
    database_ok = platform.database.ping()
    healthy = database_ok and storage.writable
    body = HealthPublic(
        status="ok" if healthy else "degraded",
        # The variations contract (SPEC §3.2) names the service "image-generator".
        service="image-generator",
        version=__version__,
        database="ok" if database_ok else "unavailable",
        storage=storage,
        **llm_health(platform.assistant),  # the prompt assistant's backend and model
    )
    return JSONResponse(body.model_dump(by_alias=True), status_code=200 if healthy else 503)


@router.get("/health", response_model=HealthPublic, summary="Platform health")
def health(platform: PlatformDep) -> JSONResponse:
    return _health(platform)


@router.get("/healthz", response_model=HealthPublic, summary="Health (gateway path)")
def healthz(platform: PlatformDep) -> JSONResponse:
    return _health(platform)


@router.get("/api/health", response_model=HealthPublic, summary="Health (studio path)")
def api_health(platform: PlatformDep) -> JSONResponse:
    return _health(platform)
