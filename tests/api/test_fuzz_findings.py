"""What the OpenAPI fuzz found, kept as plain regression tests (each failed before its fix)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

# Names the OS refuses to look up: `Path.exists()` raised for them, a 500.
UNLOOKABLE = ["0" * 500, "a\u0000b"]


@pytest.mark.parametrize("model", UNLOOKABLE)
def test_a_model_name_the_os_refuses_is_a_client_error(client: TestClient, model: str) -> None:
    response = client.put("/api/config", json={"model": model[:500]})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "model"


@pytest.mark.parametrize("model", UNLOOKABLE)
def test_generating_with_such_a_model_is_a_client_error(client: TestClient, model: str) -> None:
    response = client.post("/api/generate", json={"prompt": "a lighthouse", "model": model})
    assert 400 <= response.status_code < 500, response.text
