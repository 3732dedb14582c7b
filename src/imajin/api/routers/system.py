"""Operational routes: Prometheus metrics and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import generate_latest

from imajin.api.auth import Authenticated, ReadAccess, require
from imajin.api.deps import MetricsDep
from imajin.api.metrics import CONTENT_TYPE_LATEST, HttpMetrics
from imajin.contracts.keys import Scope, WhoAmI
from imajin.keys.models import expand_scopes

router = APIRouter(tags=["system"], dependencies=[ReadAccess])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request, platform_metrics: MetricsDep) -> Response:
    # HTTP metrics belong to this app; job and event metrics to the platform.
    http_metrics: HttpMetrics = request.app.state.metrics
    body = http_metrics.render() + generate_latest(platform_metrics)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/api/whoami", response_model=WhoAmI, response_model_by_alias=True)
def whoami(key: Annotated[Authenticated, Depends(require(Scope.READ))]) -> WhoAmI:
    if key is None:
        return WhoAmI(auth_enabled=False, key_id=None, scopes=sorted(Scope))
    return WhoAmI(auth_enabled=True, key_id=key.id, scopes=sorted(expand_scopes(key.scopes)))
