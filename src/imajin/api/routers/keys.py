"""API key administration over HTTP (admin scope). The CLI offers the same: `imajin keys`."""

from __future__ import annotations

from fastapi import APIRouter, status

from imajin.api.auth import AdminAccess
from imajin.api.deps import PlatformDep
from imajin.contracts.keys import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from imajin.store.api_keys import public_key

router = APIRouter(prefix="/api/keys", tags=["keys"], dependencies=[AdminAccess])


@router.get("", response_model=list[ApiKeyPublic], response_model_by_alias=True)
def list_keys(platform: PlatformDep) -> list[ApiKeyPublic]:
    return [public_key(key) for key in platform.api_keys.list()]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    response_model_by_alias=True,
)
def create_key(body: ApiKeyCreate, platform: PlatformDep) -> ApiKeyCreated:
    record, secret = platform.api_keys.create(scopes=body.scopes, name=body.name)
    return ApiKeyCreated(**public_key(record).model_dump(), key=secret)


@router.delete(
    "/{key_id}",
    response_model=ApiKeyPublic,
    response_model_by_alias=True,
    responses={
        404: {"description": "No key has this id."},
        409: {"description": "Last admin key."},
    },
)
def revoke_key(key_id: str, platform: PlatformDep) -> ApiKeyPublic:
    return public_key(platform.api_keys.revoke(key_id, keep_an_admin=True))
