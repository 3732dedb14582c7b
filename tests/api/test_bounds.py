"""Offsets and event positions past what the database stores are a 422, not a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

HUGE = 2**63


@pytest.mark.parametrize(
    "path",
    [
        f"/api/jobs?offset={HUGE}",
        f"/api/batches?offset={HUGE}",
        f"/api/images/variations?offset={HUGE}",
        f"/api/events?after={HUGE}",
        "/api/jobs?offset=-1",
    ],
)
def test_out_of_range_positions_are_rejected(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 422, response.text


def test_out_of_range_last_event_id_is_rejected(client: TestClient) -> None:
    response = client.get("/api/events", headers={"Last-Event-ID": str(HUGE)})
    assert response.status_code == 422, response.text


def test_the_largest_offset_accepted_answers_an_empty_page(client: TestClient) -> None:
    response = client.get(f"/api/jobs?offset={2**53 - 1}")
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
