"""API key administration over HTTP (admin scope). The CLI offers the same: `imajin keys`."""

from __future__ import annotations

from fastapi import APIRouter, status

from imajin.api.auth import AdminAccess
from imajin.api.deps import KeysDep
from imajin.api.openapi import error_responses
from imajin.contracts.keys import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from imajin.keys.models import public_key

router = APIRouter(prefix="/api/keys", tags=["keys"], dependencies=[AdminAccess])


@router.get("", response_model=list[ApiKeyPublic], response_model_by_alias=True)
def list_keys(keys: KeysDep) -> list[ApiKeyPublic]:
    return [public_key(key) for key in keys.list()]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    response_model_by_alias=True,
)
def create_key(body: ApiKeyCreate, keys: KeysDep) -> ApiKeyCreated:
    record, secret = keys.create(scopes=body.scopes, name=body.name)
    return ApiKeyCreated(**public_key(record).model_dump(), key=secret)


@router.delete(
    "/{key_id}",
    response_model=ApiKeyPublic,
    response_model_by_alias=True,
    responses=error_responses(404, 409),  # 409: the last admin key is never revoked
)
def revoke_key(key_id: str, keys: KeysDep) -> ApiKeyPublic:
    return public_key(keys.revoke(key_id, keep_an_admin=True))
