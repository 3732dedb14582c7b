"""Health endpoints: open to everyone, for load balancers and the source systems' clients.

The routes and their dependency are ``async``: nothing here runs in the request thread
pool, so a probe answers while a burst holds every pool thread (the checks themselves
run on a background thread, see :mod:`imajin.health`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from imajin import __version__
from imajin.api.deps import HealthDep
from imajin.contracts.common import HealthPublic

router = APIRouter(tags=["health"])


_DEGRADED: dict[int | str, dict[str, Any]] = {
    503: {"model": HealthPublic, "description": "Degraded: the database or storage is down."}
}


def _health(checked: HealthDep) -> JSONResponse:
    body = HealthPublic(
        status="ok" if checked.healthy else "degraded",
        # The variations contract (SPEC §3.2) names the service "image-generator".
        service="image-generator",
        version=__version__,
        database="ok" if checked.database_ok else "unavailable",
        storage=checked.storage,
        llm=checked.llm,  # the prompt assistant's backend and model
    )
    status_code = 200 if checked.healthy else 503
    return JSONResponse(body.model_dump(by_alias=True), status_code=status_code)


@router.get("/health", response_model=HealthPublic, responses=_DEGRADED, summary="Platform health")
async def health(checked: HealthDep) -> JSONResponse:
    return _health(checked)


@router.get(
    "/healthz", response_model=HealthPublic, responses=_DEGRADED, summary="Health (gateway path)"
)
async def healthz(checked: HealthDep) -> JSONResponse:
    return _health(checked)


@router.get(
    "/api/health", response_model=HealthPublic, responses=_DEGRADED, summary="Health (studio path)"
)
async def api_health(checked: HealthDep) -> JSONResponse:
    return _health(checked)
