"""The API key rows: hashes, never keys. Storage only; the rules live in ``KeysService``."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

from sqlalchemy import select

from imajin.config.settings import Scope
from imajin.errors import NotFound
from imajin.keys.models import ApiKey
from imajin.store.database import Database
from imajin.store.tables import ApiKeyRow, utcnow

RevokeCheck = Callable[[ApiKey, Sequence[ApiKey]], None]
"""Called with the key and the other active keys before a revoke; raises to refuse it."""


class ApiKeyRepository:
    """Keys created with ``imajin keys create`` or ``POST /api/keys``, in the database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def add(self, *, key_hash: str, scopes: Sequence[Scope], name: str) -> ApiKey:
        """Store a new key's hash under a fresh id."""
        row = ApiKeyRow(
            id=secrets.token_hex(8),
            name=name,
            key_hash=key_hash,
            scopes=sorted(scope.value for scope in set(scopes)),
            created_at=utcnow(),
        )
        with self._database.session() as session:
            session.add(row)
        return _from_row(row)

    def all(self) -> list[ApiKey]:
        """Every stored key, revoked ones too, oldest first."""
        with self._database.session() as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all()
        return [_from_row(row) for row in rows]

    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        """The stored key with this hash (revoked or not), or None."""
        with self._database.session() as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash)).first()
        return None if row is None else _from_row(row)

    def revoke(self, key_id: str, *, check: RevokeCheck | None = None) -> ApiKey:
        """Mark a key revoked (a revoked key stays as it is).

        ``check`` runs in the same transaction, only for an active key; what it raises
        leaves the key untouched.

        Raises:
            NotFound: no key has this id.
        """
        with self._database.session() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"No API key with id {key_id!r} (see `imajin keys list`).")
            if row.revoked_at is None:
                if check is not None:
                    active = session.scalars(
                        select(ApiKeyRow).where(ApiKeyRow.revoked_at.is_(None))
                    ).all()
                    others = [_from_row(other) for other in active if other.id != row.id]
                    check(_from_row(row), others)
                row.revoked_at = utcnow()
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
