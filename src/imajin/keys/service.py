"""The face of API keys for routes, the CLI and auth: create, list, revoke, authenticate."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from imajin.config.settings import ConfiguredKey, Scope
from imajin.errors import Conflict
from imajin.keys.models import ApiKey, configured_key, generate_key, hash_key
from imajin.store.api_keys import ApiKeyRepository


class KeysService:
    """Keys in the database (``imajin keys create``) plus the hashes in ``auth.keys``."""

    def __init__(
        self, *, repository: ApiKeyRepository, configured: Sequence[ConfiguredKey] = ()
    ) -> None:
        self._repository = repository
        self._configured = tuple(configured)
        # Once this process has seen a key, auth stays on until restart: revoking the last
        # key at run time must never open the server (see auth_required).
        self._auth_latched = bool(self._configured)

    def create(self, *, scopes: Sequence[Scope], name: str = "") -> tuple[ApiKey, str]:
        """Store a new key's hash; returns the record and the key, shown only this once."""
        key = generate_key()
        return self._repository.add(key_hash=hash_key(key), scopes=scopes, name=name), key

    def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        """Database keys (oldest first), then configured ones."""
        keys = self._repository.all() + [configured_key(c) for c in self._configured]
        return [key for key in keys if include_revoked or key.active]

    def revoke(self, key_id: str, *, keep_an_admin: bool = False) -> ApiKey:
        """Mark a database key revoked; it stops working at once.

        Raises:
            NotFound: no key has this id.
            Conflict: ``keep_an_admin`` is set and this is the last active admin key
                (over HTTP nobody could administer the server after it).
        """
        check = self._refuse_the_last_admin if keep_an_admin else None
        return self._repository.revoke(key_id, check=check)

    def _refuse_the_last_admin(self, key: ApiKey, others: Sequence[ApiKey]) -> None:
        if Scope.ADMIN not in key.scopes:
            return
        if any(Scope.ADMIN in configured.scopes for configured in self._configured):
            return
        if any(Scope.ADMIN in other.scopes for other in others):
            return
        raise Conflict(
            f"Key {key.id!r} is the last active admin key; create another admin "
            "key first (or revoke it with `imajin keys revoke` on the server)."
        )

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
                return configured_key(configured)
        found = self._repository.find_by_hash(digest)
        if found is None or not found.active:
            return None
        return found
