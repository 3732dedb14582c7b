"""The model and LoRA pickers' endpoints: LoRA files, and fetching a model."""

from __future__ import annotations

from imajin.client.call import Call, Query, json_as, segment
from imajin.contracts.jobs import JobPublic
from imajin.contracts.loras import LoraPublic

__all__ = ["list_loras", "pull_model"]


def list_loras(*, model: str | None = None) -> Call[list[LoraPublic]]:
    """``GET /api/loras``: the LoRA folders' files; with ``model``, whether each fits it."""
    params: Query = {"model": model} if model is not None else {}
    return Call("GET", "/api/loras", json_as(list[LoraPublic]), params=params)


def pull_model(model_id: str) -> Call[JobPublic]:
    """``POST /api/images/models/{id}/pull`` (admin): queue a download; returns the job."""
    path = f"/api/images/models/{segment(model_id)}/pull"
    return Call("POST", path, json_as(JobPublic), ok=(202,))
