"""KeysService: key creation, listing, the last-admin rule and the auth latch."""

from __future__ import annotations

import pytest

from imajin.config.settings import ConfiguredKey, Scope
from imajin.errors import Conflict, NotFound
from imajin.keys.models import expand_scopes, hash_key
from imajin.keys.service import KeysService
from imajin.store.api_keys import ApiKeyRepository
from imajin.store.database import Database


def keys_over(database: Database, *configured: ConfiguredKey) -> KeysService:
    return KeysService(repository=ApiKeyRepository(database), configured=configured)


def test_create_stores_only_the_hash_and_authenticates(database: Database) -> None:
    keys = keys_over(database)
    record, secret = keys.create(scopes=[Scope.GENERATE], name="studio")
    assert secret.startswith("imj_") and len(secret) > 40
    with database.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT key_hash FROM api_keys").scalar_one()
    assert stored == hash_key(secret) and secret not in stored
    found = keys.authenticate(secret)
    assert found is not None and found.id == record.id and found.scopes == (Scope.GENERATE,)


def test_wrong_key_is_not_authenticated(database: Database) -> None:
    keys = keys_over(database)
    _, secret = keys.create(scopes=[Scope.READ])
    assert keys.authenticate(secret + "x") is None
    assert keys.authenticate("") is None


def test_revoked_key_stops_working_and_leaves_the_list(database: Database) -> None:
    keys = keys_over(database)
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
        keys_over(database).revoke("nope", keep_an_admin=True)


def test_configured_hashes_authenticate_without_database_rows(database: Database) -> None:
    secret = "imj_configured-example-key"
    configured = ConfiguredKey(id="ops", hash=hash_key(secret), scopes=[Scope.READ])
    keys = keys_over(database, configured)
    assert keys.has_active_keys()
    found = keys.authenticate(secret)
    assert found is not None and found.source == "config" and found.id == "ops"
    assert [key.id for key in keys.list()] == ["ops"]


def test_the_last_admin_is_kept_only_when_asked(database: Database) -> None:
    keys = keys_over(database)
    admin, _ = keys.create(scopes=[Scope.ADMIN], name="admin")
    reader, _ = keys.create(scopes=[Scope.READ], name="reader")
    with pytest.raises(Conflict, match="last active admin key"):
        keys.revoke(admin.id, keep_an_admin=True)
    assert keys.revoke(reader.id, keep_an_admin=True).revoked_at is not None
    assert keys.revoke(admin.id).revoked_at is not None  # the operator's CLI may


def test_a_configured_admin_counts_as_another_admin(database: Database) -> None:
    configured = ConfiguredKey(id="ops", hash=hash_key("imj_ops"), scopes=[Scope.ADMIN])
    keys = keys_over(database, configured)
    admin, _ = keys.create(scopes=[Scope.ADMIN], name="admin")
    assert keys.revoke(admin.id, keep_an_admin=True).revoked_at is not None


def test_auth_stays_required_once_a_key_was_seen(database: Database) -> None:
    keys = keys_over(database)
    assert not keys.auth_required()
    record, _ = keys.create(scopes=[Scope.READ])
    assert keys.auth_required()
    keys.revoke(record.id)
    assert not keys.has_active_keys() and keys.auth_required()


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
