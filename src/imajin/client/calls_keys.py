"""API key administration (admin scope) and the caller's identity."""

from __future__ import annotations

from collections.abc import Sequence

from imajin.client.call import Call, json_as, segment
from imajin.contracts.keys import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Scope, WhoAmI

__all__ = ["create_key", "list_keys", "revoke_key", "whoami"]


def whoami() -> Call[WhoAmI]:
    """``GET /api/whoami``: whether keys are required, and what this client's key may do."""
    return Call("GET", "/api/whoami", json_as(WhoAmI))


def list_keys() -> Call[list[ApiKeyPublic]]:
    """``GET /api/keys`` (admin): every key, revoked ones included; never a secret."""
    return Call("GET", "/api/keys", json_as(list[ApiKeyPublic]))


def create_key(scopes: Sequence[Scope | str], *, name: str = "") -> Call[ApiKeyCreated]:
    """``POST /api/keys`` (admin): a new key; its secret is in this answer only."""
    request = ApiKeyCreate(scopes=[Scope(scope) for scope in scopes], name=name)
    return Call(
        "POST", "/api/keys", json_as(ApiKeyCreated), json=request.model_dump(mode="json"), ok=(201,)
    )


def revoke_key(key_id: str) -> Call[ApiKeyPublic]:
    """``DELETE /api/keys/{id}`` (admin): revoke a key (the last admin key is refused, 409)."""
    return Call("DELETE", f"/api/keys/{segment(key_id)}", json_as(ApiKeyPublic))
