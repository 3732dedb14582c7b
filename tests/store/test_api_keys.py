"""API key repository on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC

import pytest

from imajin.config.settings import ConfiguredKey, Scope
from imajin.errors import NotFound
from imajin.store.api_keys import ApiKeyRepository, expand_scopes, hash_key
from imajin.store.database import Database


def test_create_stores_only_the_hash_and_authenticates(database: Database) -> None:
    keys = ApiKeyRepository(database)
    record, secret = keys.create(scopes=[Scope.GENERATE], name="studio")
    assert secret.startswith("imj_") and len(secret) > 40
    with database.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT key_hash FROM api_keys").scalar_one()
    assert stored == hash_key(secret) and secret not in stored
    found = keys.authenticate(secret)
    assert found is not None and found.id == record.id and found.scopes == (Scope.GENERATE,)
    assert found.created_at is not None and found.created_at.tzinfo == UTC


def test_wrong_key_is_not_authenticated(database: Database) -> None:
    keys = ApiKeyRepository(database)
    _, secret = keys.create(scopes=[Scope.READ])
    assert keys.authenticate(secret + "x") is None
    assert keys.authenticate("") is None


def test_revoked_key_stops_working_and_leaves_the_list(database: Database) -> None:
    keys = ApiKeyRepository(database)
    record, secret = keys.create(scopes=[Scope.ADMIN])
    assert keys.has_active_keys()
    revoked = keys.revoke(record.id)
    assert revoked.revoked_at is not None
    assert keys.authenticate(secret) is None
    assert keys.list() == []
    assert [key.id for key in keys.list(include_revoked=True)] == [record.id]
    assert not keys.has_active_keys()


def test_revoking_unknown_key_is_not_found(database: Database) -> None:
    with pytest.raises(NotFound, match="imajin keys list"):
        ApiKeyRepository(database).revoke("nope")


def test_configured_hashes_authenticate_without_database_rows(database: Database) -> None:
    secret = "imj_configured-example-key"
    configured = ConfiguredKey(id="ops", hash=hash_key(secret), scopes=[Scope.READ])
    keys = ApiKeyRepository(database, configured=[configured])
    assert keys.has_active_keys()
    found = keys.authenticate(secret)
    assert found is not None and found.source == "config" and found.id == "ops"


@pytest.mark.parametrize(
    ("given", "granted"),
    [
        ([Scope.READ], {Scope.READ}),
        ([Scope.GENERATE], {Scope.READ, Scope.GENERATE}),
        ([Scope.ADMIN], {Scope.READ, Scope.GENERATE, Scope.ADMIN}),
        (["read", "admin"], {Scope.READ, Scope.GENERATE, Scope.ADMIN}),
    ],
)
def test_scope_implication(given: list[Scope], granted: set[Scope]) -> None:
    assert expand_scopes(given) == granted
