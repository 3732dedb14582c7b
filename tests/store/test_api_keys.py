"""API key rows on SQLite and PostgreSQL: storage only (the rules are KeysService's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

import pytest

from imajin.config.settings import Scope
from imajin.errors import Conflict, NotFound
from imajin.keys.models import ApiKey, hash_key
from imajin.store.api_keys import ApiKeyRepository
from imajin.store.database import Database


def test_add_stores_the_hash_it_is_given(database: Database) -> None:
    keys = ApiKeyRepository(database)
    record = keys.add(key_hash=hash_key("imj_example"), scopes=[Scope.GENERATE], name="studio")
    with database.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT key_hash FROM api_keys").scalar_one()
    assert stored == hash_key("imj_example")
    found = keys.find_by_hash(stored)
    assert found == record and found.scopes == (Scope.GENERATE,) and found.source == "database"
    assert found.created_at is not None and found.created_at.tzinfo == UTC
    assert keys.find_by_hash(hash_key("imj_other")) is None


def test_revoked_keys_stay_stored(database: Database) -> None:
    keys = ApiKeyRepository(database)
    record = keys.add(key_hash=hash_key("imj_example"), scopes=[Scope.READ], name="")
    revoked = keys.revoke(record.id)
    assert revoked.revoked_at is not None and not revoked.active
    assert keys.all() == [revoked]
    assert keys.find_by_hash(hash_key("imj_example")) == revoked
    assert keys.revoke(record.id) == revoked  # revoking again changes nothing


def test_a_refused_revoke_leaves_the_key_active(database: Database) -> None:
    keys = ApiKeyRepository(database)
    target = keys.add(key_hash=hash_key("imj_a"), scopes=[Scope.ADMIN], name="a")
    other = keys.add(key_hash=hash_key("imj_b"), scopes=[Scope.READ], name="b")
    seen: list[tuple[ApiKey, Sequence[ApiKey]]] = []

    def refuse(key: ApiKey, others: Sequence[ApiKey]) -> None:
        seen.append((key, others))
        raise Conflict("refused")

    with pytest.raises(Conflict, match="refused"):
        keys.revoke(target.id, check=refuse)
    assert seen == [(target, [other])]
    assert all(key.active for key in keys.all())


def test_revoking_unknown_key_is_not_found(database: Database) -> None:
    with pytest.raises(NotFound, match="imajin keys list"):
        ApiKeyRepository(database).revoke("nope")
