"""API keys and scopes, over real HTTP calls to a live uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI, routing
from fastapi.routing import APIRoute

from imajin.api.app import create_app
from imajin.api.auth import GenerateAccess, check_bind_safety
from imajin.config.settings import ConfiguredKey, Scope, Settings
from imajin.errors import ConfigError
from imajin.keys.models import hash_key
from imajin.store.migrate import upgrade
from imajin.wiring import Platform, build_platform
from tests.conftest import LiveServer

# Routes with no key requirement, on purpose: health for load balancers, docs for people.
OPEN_ROUTES = {"/health", "/healthz", "/api/health", "/docs", "/openapi.json"}
OPEN_ROUTES |= {"/", "/static/{path:path}"}  # the gallery UI: the key is typed into the page

# One real route per scope. The generate route is a probe until the engine issue adds routes.
ROUTE_FOR_SCOPE = {
    Scope.READ: ("GET", "/api/whoami"),
    Scope.GENERATE: ("POST", "/probe/generate"),
    Scope.ADMIN: ("GET", "/api/keys"),
}


@pytest.fixture
def keyed_server(app: FastAPI, platform: Platform) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    probe = APIRouter(dependencies=[GenerateAccess])

    @probe.post("/probe/generate")
    def generate() -> dict[str, bool]:
        return {"queued": True}

    app.include_router(probe)
    keys = {
        scope.value: platform.keys.create(scopes=[scope], name=scope.value)[1] for scope in Scope
    }
    with LiveServer(app) as server:
        yield server, keys


@pytest.mark.parametrize("key_scope", list(Scope))
@pytest.mark.parametrize("route_scope", list(Scope))
def test_scope_matrix(
    keyed_server: tuple[LiveServer, dict[str, str]], key_scope: Scope, route_scope: Scope
) -> None:
    server, keys = keyed_server
    method, path = ROUTE_FOR_SCOPE[route_scope]
    response = httpx.request(
        method, server.url + path, headers={"Authorization": f"Bearer {keys[key_scope]}"}
    )
    order = [Scope.READ, Scope.GENERATE, Scope.ADMIN]
    if order.index(key_scope) >= order.index(route_scope):
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 403
        assert f"`{route_scope.value}` scope" in response.json()["error"]["message"]


@pytest.mark.parametrize("route_scope", list(Scope))
def test_missing_and_invalid_keys_are_401(
    keyed_server: tuple[LiveServer, dict[str, str]], route_scope: Scope
) -> None:
    server, _ = keyed_server
    method, path = ROUTE_FOR_SCOPE[route_scope]
    missing = httpx.request(method, server.url + path)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    invalid = httpx.request(method, server.url + path, headers={"X-API-Key": "imj_wrong"})
    assert invalid.status_code == 401


def test_x_api_key_header_works(keyed_server: tuple[LiveServer, dict[str, str]]) -> None:
    server, keys = keyed_server
    response = httpx.get(server.url + "/api/whoami", headers={"X-API-Key": keys["read"]})
    assert response.status_code == 200
    assert response.json()["authEnabled"] is True
    assert response.json()["scopes"] == ["read"]


def test_health_needs_no_key_when_auth_is_on(
    keyed_server: tuple[LiveServer, dict[str, str]],
) -> None:
    server, _ = keyed_server
    for path in ("/health", "/healthz", "/api/health"):
        assert httpx.get(server.url + path).status_code == 200


def test_revoked_key_is_refused_at_once(
    keyed_server: tuple[LiveServer, dict[str, str]], platform: Platform
) -> None:
    server, keys = keyed_server
    headers = {"Authorization": f"Bearer {keys['admin']}"}
    listed = httpx.get(server.url + "/api/keys", headers=headers).json()
    read_id = next(key["id"] for key in listed if key["name"] == "read")
    revoke = httpx.delete(server.url + f"/api/keys/{read_id}", headers=headers)
    assert revoke.status_code == 200 and revoke.json()["revokedAt"]
    after = httpx.get(server.url + "/api/whoami", headers={"X-API-Key": keys["read"]})
    assert after.status_code == 401


def test_admin_creates_a_key_over_http_shown_once(
    keyed_server: tuple[LiveServer, dict[str, str]],
) -> None:
    server, keys = keyed_server
    headers = {"Authorization": f"Bearer {keys['admin']}"}
    created = httpx.post(
        server.url + "/api/keys", json={"scopes": ["generate"], "name": "ci"}, headers=headers
    )
    assert created.status_code == 201
    new_key = created.json()["key"]
    listed = httpx.get(server.url + "/api/keys", headers=headers).json()
    assert all("key" not in key for key in listed)
    probe = httpx.post(server.url + "/probe/generate", headers={"X-API-Key": new_key})
    assert probe.status_code == 200


def test_without_keys_everything_is_open_on_loopback(live_server: LiveServer) -> None:
    response = httpx.get(live_server.url + "/api/whoami")
    assert response.status_code == 200
    assert response.json() == {
        "authEnabled": False,
        "keyId": None,
        "scopes": ["admin", "generate", "read"],
    }


def test_configured_key_hash_authenticates(settings: Settings) -> None:
    secret = "imj_from-config-file"
    keyed = settings.model_copy(
        update={
            "auth": settings.auth.model_copy(
                update={
                    "keys": [ConfiguredKey(id="ops", hash=hash_key(secret), scopes=[Scope.ADMIN])]
                }
            )
        }
    )
    platform = build_platform(keyed)
    upgrade(platform.database)
    with LiveServer(create_app(platform)) as server:
        assert httpx.get(server.url + "/api/keys").status_code == 401
        ok = httpx.get(server.url + "/api/keys", headers={"X-API-Key": secret})
        assert ok.status_code == 200
        assert [key["id"] for key in ok.json()] == ["ops"]
    platform.close()


def test_every_route_but_health_and_docs_requires_a_scope(app: FastAPI) -> None:
    unguarded = []
    checked = 0
    # app.routes holds included routers, not their routes: walk each route with its
    # router's prefix and dependencies (a plain isinstance loop checked nothing).
    for route in routing.iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or route.path in OPEN_ROUTES:
            continue
        checked += 1
        scopes = [
            getattr(dependant.call, "required_scope", None)
            for dependant in route.dependant.dependencies
        ]
        if not any(scopes):
            unguarded.append(route.path)
    assert checked > 30
    assert unguarded == []


@pytest.mark.parametrize(
    ("host", "has_keys", "insecure", "refused"),
    [
        ("127.0.0.1", False, False, False),
        ("::1", False, False, False),
        ("0.0.0.0", False, False, True),
        ("0.0.0.0", True, False, False),
        ("0.0.0.0", False, True, False),
        ("192.0.2.7", False, False, True),
    ],
)
def test_bind_safety(
    settings: Settings, host: str, has_keys: bool, insecure: bool, refused: bool
) -> None:
    configured = settings.model_copy(
        update={"server": settings.server.model_copy(update={"host": host, "insecure": insecure})}
    )
    if refused:
        with pytest.raises(ConfigError, match="--insecure"):
            check_bind_safety(configured, has_keys=has_keys)
    else:
        check_bind_safety(configured, has_keys=has_keys)


def test_the_last_admin_key_cannot_be_revoked_over_http(
    live_server: LiveServer, platform: Platform
) -> None:
    admin, secret = platform.keys.create(scopes=[Scope.ADMIN], name="only admin")
    headers = {"X-API-Key": secret}
    refused = httpx.delete(live_server.url + f"/api/keys/{admin.id}", headers=headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "conflict"
    assert httpx.get(live_server.url + "/api/whoami", headers=headers).status_code == 200
    assert httpx.post(live_server.url + "/api/keys", json={"scopes": ["admin"]}).status_code == 401


def test_a_second_admin_key_can_be_revoked(live_server: LiveServer, platform: Platform) -> None:
    _, secret = platform.keys.create(scopes=[Scope.ADMIN], name="first")
    second, _ = platform.keys.create(scopes=[Scope.ADMIN], name="second")
    revoked = httpx.delete(
        live_server.url + f"/api/keys/{second.id}", headers={"X-API-Key": secret}
    )
    assert revoked.status_code == 200


def test_auth_stays_on_after_every_key_is_revoked_at_run_time(
    live_server: LiveServer, platform: Platform
) -> None:
    admin, _ = platform.keys.create(scopes=[Scope.ADMIN], name="admin")
    assert httpx.get(live_server.url + "/api/whoami").status_code == 401
    platform.keys.revoke(admin.id)  # the operator's CLI, against the same database
    assert httpx.get(live_server.url + "/api/whoami").status_code == 401
    anonymous = httpx.post(live_server.url + "/api/keys", json={"scopes": ["admin"]})
    assert anonymous.status_code == 401
