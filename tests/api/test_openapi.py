"""What ``/openapi.json`` documents, and the ``Allow`` header of a 405."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

ERROR_REF = "#/components/schemas/ErrorBody"


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/openapi.json").json()
    return body


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        # GET and DELETE are two routes on one path; Starlette named only the first.
        ("PUT", "/api/jobs/some-id", "GET, DELETE"),
        ("POST", "/api/config", "GET, PUT"),
        ("PATCH", "/api/keys", "GET, POST"),
        ("PUT", "/api/images/some-name/hero", "GET, HEAD"),
    ],
)
def test_a_405_allows_every_method_of_the_path(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_every_guarded_operation_documents_401_and_403(document: dict[str, Any]) -> None:
    open_paths = {"/health", "/healthz", "/api/health"}
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in _operations(document)
        if path not in open_paths and not {"401", "403"} <= operation["responses"].keys()
    ]
    assert missing == []


def test_every_error_answer_has_the_error_envelope(document: dict[str, Any]) -> None:
    wrong = []
    for path, method, operation in _operations(document):
        for code, response in operation["responses"].items():
            if int(code) < 400 or "health" in path:
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema != {"$ref": ERROR_REF}:
                wrong.append(f"{method.upper()} {path} {code}")
    assert wrong == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_a_full_queue_is_documented_with_retry_after(document: dict[str, Any]) -> None:
    answer = document["paths"]["/api/generate"]["post"]["responses"]["429"]
    assert answer["headers"]["Retry-After"]["required"] is True


def test_parameters_are_never_null(document: dict[str, Any]) -> None:
    nullable = [
        f"{method.upper()} {path} {parameter['name']}"
        for path, method, operation in _operations(document)
        for parameter in operation.get("parameters", [])
        if {"type": "null"} in parameter["schema"].get("anyOf", [])
    ]
    assert nullable == []
