"""Fetching a manifest model from the hub, for admins (``imajin models pull`` as a job)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from imajin.api.auth import AdminAccess
from imajin.api.deps import PullsDep
from imajin.api.openapi import error_responses
from imajin.contracts.jobs import JobPublic
from imajin.jobs.models import public_job

router = APIRouter(prefix="/api/images", tags=["models"])


@router.post(
    "/models/{model_id}/pull",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    dependencies=[AdminAccess],
    responses=error_responses(404, 429),  # 404: no such model id; 422: not a hub repo
    summary="Download a model into the hub cache (a `pull_model` job; progress in its events)",
)
def pull_model(model_id: Annotated[str, Path(max_length=200)], pulls: PullsDep) -> JobPublic:
    return public_job(pulls.submit(model_id))
