"""API key administration over HTTP (admin scope). The CLI offers the same: `imajin keys`."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from imajin.api.auth import AdminAccess
from imajin.api.deps import ApiKeysDep
from imajin.api.openapi import error_responses
from imajin.config.settings import Scope
from imajin.store.api_keys import ApiKey

router = APIRouter(prefix="/api/keys", tags=["keys"], dependencies=[AdminAccess])


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scopes: list[Scope] = Field(min_length=1, description="read, generate and/or admin.")
    name: str = Field("", max_length=200, description="A label to recognise the key by.")


class ApiKeyPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    name: str
    scopes: list[Scope]
    source: str
    created_at: datetime | None = Field(serialization_alias="createdAt")
    revoked_at: datetime | None = Field(serialization_alias="revokedAt")

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyPublic:
        return cls(
            id=key.id,
            name=key.name,
            scopes=list(key.scopes),
            source=key.source,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The key itself. It is shown only in this response.")


@router.get("", response_model=list[ApiKeyPublic], response_model_by_alias=True)
def list_keys(keys: ApiKeysDep) -> list[ApiKeyPublic]:
    return [ApiKeyPublic.of(key) for key in keys.list()]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    response_model_by_alias=True,
)
def create_key(body: ApiKeyCreate, keys: ApiKeysDep) -> ApiKeyCreated:
    record, secret = keys.create(scopes=body.scopes, name=body.name)
    return ApiKeyCreated(**ApiKeyPublic.of(record).model_dump(), key=secret)


@router.delete(
    "/{key_id}",
    response_model=ApiKeyPublic,
    response_model_by_alias=True,
    responses=error_responses(404, 409),  # 409: the last admin key is never revoked
)
def revoke_key(key_id: str, keys: ApiKeysDep) -> ApiKeyPublic:
    return ApiKeyPublic.of(keys.revoke(key_id, keep_an_admin=True))
