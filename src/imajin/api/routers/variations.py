"""The variations contract (SPEC §3.2): create, look up, regenerate, delete, serve images."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import FileResponse

from imajin.api.auth import GenerateAccess, ReadAccess, SignedReadAccess
from imajin.api.deps import EngineDep, Offset, VariationsDep
from imajin.api.openapi import error_responses
from imajin.contracts.variations import (
    FamilyPublic,
    MlHealth,
    ModelPublic,
    RegenerateRequest,
    VariationCreate,
    VariationPage,
    VariationPublic,
)
from imajin.errors import InvalidInput

router = APIRouter(prefix="/api/images", tags=["variations"])

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


@router.post(
    "/variations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=VariationPublic,
    dependencies=[GenerateAccess],
    responses=error_responses(404, 409, 429),  # 404: model or LoRA; 409: name taken
    summary="Generate a variation (queued)",
)
def create_variation(body: VariationCreate, variations: VariationsDep) -> VariationPublic:
    return variations.public(variations.create(body))


@router.get("/variations", response_model=VariationPage, dependencies=[ReadAccess])
def list_variations(
    variations: VariationsDep,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> VariationPage:
    return variations.page(category=category, limit=limit, offset=offset)


@router.get(
    "/variations/name/{name}",
    response_model=VariationPublic,
    dependencies=[ReadAccess],
    responses=error_responses(404),
)
def get_variation_by_name(name: str, variations: VariationsDep) -> VariationPublic:
    return variations.public(variations.by_name(name))


@router.get(
    "/variations/{variation_id}",
    response_model=VariationPublic,
    dependencies=[ReadAccess],
    responses=error_responses(404),
)
def get_variation(variation_id: str, variations: VariationsDep) -> VariationPublic:
    return variations.public(variations.get(variation_id))


@router.post(
    "/variations/{variation_id}/regenerate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=VariationPublic,
    dependencies=[GenerateAccess],
    responses=error_responses(404, 409, 429),  # 409: still queued or generating
)
def regenerate_variation(
    variation_id: str, variations: VariationsDep, body: RegenerateRequest | None = None
) -> VariationPublic:
    new_seed = body.new_seed if body is not None else False
    return variations.public(variations.regenerate(variation_id, new_seed=new_seed))


@router.delete(
    "/variations/{variation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[GenerateAccess],
    responses=error_responses(404, 409),  # 409: still queued or generating
)
def delete_variation(variation_id: str, variations: VariationsDep) -> Response:
    variations.delete(variation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/families",
    response_model=list[FamilyPublic],
    dependencies=[ReadAccess],
    summary="The size families and the derivative sizes each one produces",
)
def list_families(variations: VariationsDep) -> list[FamilyPublic]:
    return variations.families()


@router.get("/models", response_model=list[ModelPublic], dependencies=[ReadAccess])
def list_models(engine: EngineDep) -> list[ModelPublic]:
    return [
        ModelPublic(
            type=m.style,
            model_id=m.id,
            name=m.name,
            family=m.family,
            native=m.native,
            status=m.status,
            device=m.device,
            loaded=m.loaded,
            downloaded=m.downloaded,
            scheduler=m.scheduler,
            samplers=m.samplers,
        )
        for m in engine.list_models()
    ]


@router.get("/health/ml", response_model=MlHealth, dependencies=[ReadAccess])
def ml_health(engine: EngineDep) -> MlHealth:
    models = list_models(engine)
    return MlHealth(status="ok" if models else "degraded", models=models)


_DERIVATIVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/webp": {}}, "description": "The WebP image."},
    304: {"description": "Not modified: the `If-None-Match` ETag is current."},
    **error_responses(404),
}


# Declared last: its two free segments would otherwise swallow the routes above.
@router.get(
    "/{variation_name}/{derivative_name}",
    dependencies=[SignedReadAccess],
    response_class=FileResponse,
    responses=_DERIVATIVE_RESPONSES,
    summary="A derivative as WebP (ETag, CDN cache headers)",
)
@router.head(
    "/{variation_name}/{derivative_name}",
    dependencies=[SignedReadAccess],
    response_class=FileResponse,
    responses=_DERIVATIVE_RESPONSES,
    summary="A derivative's headers only (same as GET)",
    operation_id="head_derivative",
)
def serve_derivative(
    variation_name: Annotated[str, Path(json_schema_extra={"pattern": _NAME.pattern})],
    derivative_name: Annotated[str, Path(json_schema_extra={"pattern": _NAME.pattern})],
    request: Request,
    variations: VariationsDep,
    v: Annotated[str | None, Query(description="Content version from publicUrl.")] = None,
) -> Response:
    for field, value in (("variationName", variation_name), ("derivativeName", derivative_name)):
        if not _NAME.match(value):
            raise InvalidInput(f"`{field}` may only use letters, digits, '_' and '-'.", field=field)
    served = variations.served(variation_name, derivative_name, version_asked=v)
    headers = {"ETag": served.etag, "Cache-Control": served.cache_control}
    if _matches(request.headers.get("if-none-match"), served.etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return FileResponse(served.path, media_type="image/webp", headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in candidates or etag in candidates
