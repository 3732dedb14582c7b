"""Health endpoints: open to everyone, for load balancers and the source systems' clients."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from imajin import __version__
from imajin.api.deps import HealthDep
from imajin.storage.local import StorageHealth

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    service: str
    version: str
    database: Literal["ok", "unavailable"]
    storage: StorageHealth
    llm: dict[str, Any] | None = None


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
def health(checked: HealthDep) -> JSONResponse:
    return _health(checked)


@router.get(
    "/healthz", response_model=HealthPublic, responses=_DEGRADED, summary="Health (gateway path)"
)
def healthz(checked: HealthDep) -> JSONResponse:
    return _health(checked)


@router.get(
    "/api/health", response_model=HealthPublic, responses=_DEGRADED, summary="Health (studio path)"
)
def api_health(checked: HealthDep) -> JSONResponse:
    return _health(checked)
