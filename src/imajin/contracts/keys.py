"""API keys and the caller's identity (``/api/keys``, ``/api/whoami``), as the API shows them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ApiKeyCreate", "ApiKeyCreated", "ApiKeyPublic", "Scope", "WhoAmI"]


class Scope(StrEnum):
    """What an API key may do. ``admin`` implies ``generate`` implies ``read``."""

    READ = "read"
    GENERATE = "generate"
    ADMIN = "admin"


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
    # `alias` (not only a serialization alias) so a client reads back what the server wrote.
    created_at: datetime | None = Field(alias="createdAt")
    revoked_at: datetime | None = Field(alias="revokedAt")


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The key itself. It is shown only in this response.")


class WhoAmI(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    auth_enabled: bool = Field(alias="authEnabled")
    key_id: str | None = Field(alias="keyId")
    scopes: list[Scope]
