"""API keys: generation, hashing and the repository that stores their hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from imajin.config.settings import ConfiguredKey, Scope
from imajin.contracts.keys import ApiKeyPublic
from imajin.errors import Conflict, NotFound
from imajin.store.database import Database
from imajin.store.tables import ApiKeyRow, utcnow

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


class ApiKeyRepository:
    """Keys created with ``imajin keys create`` (database) plus hashes from config."""

    def __init__(self, database: Database, *, configured: Sequence[ConfiguredKey] = ()) -> None:
        self._database = database
        self._configured = tuple(configured)
        # Once this process has seen a key, auth stays on until restart: revoking the last
        # key at run time must never open the server (see auth_required).
        self._auth_latched = bool(self._configured)

    def create(self, *, scopes: Sequence[Scope], name: str = "") -> tuple[ApiKey, str]:
        """Store a new key's hash; returns the record and the key, shown only this once."""
        key = generate_key()
        row = ApiKeyRow(
            id=secrets.token_hex(8),
            name=name,
            key_hash=hash_key(key),
            scopes=sorted(scope.value for scope in set(scopes)),
            created_at=utcnow(),
        )
        with self._database.session() as session:
            session.add(row)
        return _from_row(row), key

    def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        with self._database.session() as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all()
        keys = [_from_row(row) for row in rows] + [_from_config(c) for c in self._configured]
        return [key for key in keys if include_revoked or key.active]

    def revoke(self, key_id: str, *, keep_an_admin: bool = False) -> ApiKey:
        """Mark a database key revoked; it stops working at once.

        Raises:
            NotFound: no key has this id.
            Conflict: ``keep_an_admin`` is set and this is the last active admin key
                (over HTTP nobody could administer the server after it).
        """
        with self._database.session() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"No API key with id {key_id!r} (see `imajin keys list`).")
            if row.revoked_at is None:
                if keep_an_admin and self._is_last_admin(session, row):
                    raise Conflict(
                        f"Key {key_id!r} is the last active admin key; create another admin "
                        "key first (or revoke it with `imajin keys revoke` on the server)."
                    )
                row.revoked_at = utcnow()
            return _from_row(row)

    def _is_last_admin(self, session: Session, row: ApiKeyRow) -> bool:
        if Scope.ADMIN.value not in row.scopes:
            return False
        if any(Scope.ADMIN in configured.scopes for configured in self._configured):
            return False
        active = session.scalars(select(ApiKeyRow).where(ApiKeyRow.revoked_at.is_(None))).all()
        return not any(Scope.ADMIN.value in other.scopes for other in active if other.id != row.id)

    def has_active_keys(self) -> bool:
        """Whether any key is active now (configured or in the database)."""
        return bool(self._configured) or bool(self.list())

    def auth_required(self) -> bool:
        """Whether requests need a key. Latched: once true in this process, it stays true."""
        if not self._auth_latched:
            self._auth_latched = self.has_active_keys()
        return self._auth_latched

    def authenticate(self, key: str) -> ApiKey | None:
        """The active key matching ``key``, or None."""
        digest = hash_key(key)
        for configured in self._configured:
            if hmac.compare_digest(configured.hash, digest):
                return _from_config(configured)
        with self._database.session() as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest)).first()
        if row is None or row.revoked_at is not None:
            return None
        return _from_row(row)


def _from_row(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        scopes=tuple(Scope(scope) for scope in row.scopes),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        source="database",
    )


def _from_config(key: ConfiguredKey) -> ApiKey:
    return ApiKey(
        id=key.id,
        name=key.name,
        scopes=tuple(key.scopes),
        created_at=None,
        revoked_at=None,
        source="config",
    )
