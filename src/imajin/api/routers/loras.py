"""The LoRA folders (``GET /api/loras``): the picker's list, each checked against a model."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from imajin.api.auth import ReadAccess
from imajin.api.deps import LorasDep
from imajin.api.openapi import error_responses
from imajin.contracts.loras import LoraPublic

router = APIRouter(prefix="/api", tags=["loras"])


@router.get(
    "/loras",
    response_model=list[LoraPublic],
    dependencies=[ReadAccess],
    responses=error_responses(404),  # 404: an unknown `model`
    summary="LoRA files in the LoRA folders, with the architecture each was made for",
)
def list_loras(
    loras: LorasDep,
    model: Annotated[
        str | None,
        Query(
            max_length=200,
            description="A model id or style: each LoRA then says whether it fits that model.",
        ),
    ] = None,
) -> list[LoraPublic]:
    return loras.list_loras(model=model)
