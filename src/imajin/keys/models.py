"""API keys as the rest of the system sees them (never the secret), and their helpers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from imajin.config.settings import ConfiguredKey, Scope
from imajin.contracts.keys import ApiKeyPublic

KEY_PREFIX = "imj_"


def generate_key() -> str:
    """A new random key (256 bits), e.g. ``imj_3q2...``."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """SHA-256 hex of the key. Keys are random, so a slow KDF would add nothing."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def expand_scopes(scopes: Iterable[Scope | str]) -> frozenset[Scope]:
    """What a key may do: ``admin`` implies ``generate``, which implies ``read``."""
    granted = {Scope(scope) for scope in scopes}
    if Scope.ADMIN in granted:
        granted |= {Scope.GENERATE, Scope.READ}
    if Scope.GENERATE in granted:
        granted.add(Scope.READ)
    return frozenset(granted)


@dataclass(frozen=True)
class ApiKey:
    """A key as the rest of the system sees it (never the secret)."""

    id: str
    name: str
    scopes: tuple[Scope, ...]
    created_at: datetime | None
    revoked_at: datetime | None
    source: str  # "database" or "config"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def configured_key(key: ConfiguredKey) -> ApiKey:
    """The record of a key whose hash is in ``auth.keys`` (always active)."""
    return ApiKey(
        id=key.id,
        name=key.name,
        scopes=tuple(key.scopes),
        created_at=None,
        revoked_at=None,
        source="config",
    )


def public_key(key: ApiKey) -> ApiKeyPublic:
    """The view of ``key`` the HTTP API shows."""
    return ApiKeyPublic(
        id=key.id,
        name=key.name,
        scopes=list(key.scopes),
        source=key.source,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )
