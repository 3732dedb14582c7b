"""The HTTP app's cross-cutting behaviour: health, errors, request ids, limits, metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

import imajin.api.app as app_module
from imajin.api.app import create_app
from imajin.config.settings import Settings
from imajin.errors import Overloaded
from imajin.logs import _RequestIdFilter
from imajin.store.migrate import upgrade
from imajin.wiring import build_platform


class _Echo(BaseModel):
    name: str = Field(pattern=r"^[a-z]+$")
    steps: int = Field(ge=1, le=100)


def _probe_router() -> APIRouter:
    """Routes that exercise the error paths (the real routes come with later issues)."""
    router = APIRouter()

    @router.post("/probe/echo")
    def echo(body: _Echo) -> _Echo:
        return body

    @router.get("/probe/crash")
    def crash() -> None:
        raise RuntimeError("secret internal detail")

    @router.get("/probe/busy")
    def busy() -> None:
        raise Overloaded("The generate queue is full.", retry_after=7)

    return router


@pytest.fixture
def probe_client(settings: Settings) -> Iterator[TestClient]:
    small = settings.model_copy(
        update={
            "server": settings.server.model_copy(
                update={"max_body_bytes": 2048, "cors_origins": ["https://studio.example.com"]}
            )
        }
    )
    platform = build_platform(small)
    upgrade(platform.database)
    app = create_app(platform)
    app.include_router(_probe_router())
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    platform.close()


@pytest.mark.parametrize("path", ["/health", "/healthz", "/api/health"])
def test_health_answers_ok_with_storage(client: TestClient, settings: Settings, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["service"] == "image-generator"
    assert body["version"]
    assert body["storage"] == {"basePath": str(settings.data_dir), "exists": True, "writable": True}


def test_health_is_degraded_when_database_is_gone(settings: Settings) -> None:
    broken = settings.model_copy(
        update={
            "database": settings.database.model_copy(
                update={"url": "postgresql://nobody@127.0.0.1:1/none"}
            )
        }
    )
    platform = build_platform(broken)
    with TestClient(create_app(platform)) as client:
        response = client.get("/health")
    platform.close()
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["database"] == "unavailable"


def test_request_id_is_generated_or_echoed(client: TestClient) -> None:
    generated = client.get("/health").headers["x-request-id"]
    assert len(generated) == 32
    assert (
        client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    # A malformed incoming id (header injection attempt) is replaced, not echoed.
    replaced = client.get("/health", headers={"X-Request-ID": "bad id;\x7f"})
    assert replaced.headers["x-request-id"] != "bad id;\x7f"


def test_unknown_route_gets_the_error_shape(client: TestClient) -> None:
    response = client.get("/no/such/route")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["requestId"] == response.headers["x-request-id"]


def test_validation_error_names_the_field_and_rule(probe_client: TestClient) -> None:
    response = probe_client.post("/probe/echo", json={"name": "tarot", "steps": 500})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["field"] == "steps"
    assert "less than or equal to 100" in error["message"]


def test_unexpected_error_is_500_without_a_stack_trace(probe_client: TestClient) -> None:
    response = probe_client.get("/probe/crash")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


def test_a_500_can_be_traced_by_its_request_id(
    probe_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    # The id is in the header, the body and the one log line with the traceback.
    caplog.handler.addFilter(_RequestIdFilter())
    with caplog.at_level(logging.ERROR):
        response = probe_client.get("/probe/crash", headers={"X-Request-ID": "trace-me-42"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-me-42"
    assert response.json()["error"]["requestId"] == "trace-me-42"
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert len(tracebacks) == 1
    assert getattr(tracebacks[0], "request_id", None) == "trace-me-42"
    assert "secret internal detail" in caplog.text  # for the operator, never for the client


def test_overloaded_is_429_with_retry_after(probe_client: TestClient) -> None:
    response = probe_client.get("/probe/busy")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["retryAfter"] == 7


def test_declared_body_over_limit_is_413(probe_client: TestClient) -> None:
    response = probe_client.post(
        "/probe/echo", content=b"x" * 4096, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_streamed_body_over_limit_is_413(probe_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must count bytes
        for _ in range(8):
            yield b"x" * 512

    response = probe_client.post(
        "/probe/echo", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_cors_allows_configured_origin_only(probe_client: TestClient) -> None:
    allowed = probe_client.get("/health", headers={"Origin": "https://studio.example.com"})
    assert allowed.headers["access-control-allow-origin"] == "https://studio.example.com"
    other = probe_client.get("/health", headers={"Origin": "https://evil.example.net"})
    assert "access-control-allow-origin" not in other.headers


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/health")
    client.get("/health")
    client.get("/no/such/route")
    text = client.get("/metrics").text
    assert 'imajin_http_requests_total{method="GET",route="/health",status="200"} 2.0' in text
    assert 'route="unmatched",status="404"' in text
    assert "imajin_http_request_duration_seconds_bucket" in text


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "imajin"
    assert "/health" in spec["paths"]


def test_two_apps_in_one_process_do_not_share_metrics(settings: Settings) -> None:
    platform = build_platform(settings)
    upgrade(platform.database)
    first, second = create_app(platform), create_app(platform)
    with TestClient(first) as a, TestClient(second) as b:
        a.get("/health")
        assert 'route="/health"' not in b.get("/metrics").text
    platform.close()


def test_app_factory_builds_nothing_at_import() -> None:
    assert not any(isinstance(value, FastAPI) for value in vars(app_module).values())
