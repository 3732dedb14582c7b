"""Variations under the Celery dispatcher when the broker is down, and list pagination."""

from __future__ import annotations

from pathlib import Path

import httpx

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.store.migrate import upgrade
from imajin.testing.manifest import write_tiny_manifest
from imajin.wiring import build_platform
from tests.conftest import LiveServer


def test_broker_down_answers_503_and_keeps_the_variation_queued(
    tmp_path: Path, tiny_sd15_path: Path
) -> None:
    environ = {
        "IMAJIN_DATA_DIR": str(tmp_path / "data"),
        "IMAJIN_JOBS__DISPATCHER": "celery",
        # Port 1 refuses at once: the broker is down.
        "IMAJIN_JOBS__CELERY__BROKER_URL": "redis://127.0.0.1:1/0",
        "IMAJIN_JOBS__CELERY__CONNECT_TIMEOUT_S": "1",
    }
    write_tiny_manifest(tmp_path / "data", {"tiny-sd15": tiny_sd15_path})
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    with LiveServer(create_app(platform)) as live:
        body = {
            "name": "harbour",
            "families": ["og"],
            "generation": {"prompt": "a harbour at dusk", "model": "tiny-sd15"},
        }
        response = httpx.post(live.url + "/api/images/variations", json=body, timeout=60)
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "service_unavailable"
        assert "will be dispatched when it is back" in error["message"]
        stored = httpx.get(live.url + "/api/images/variations/name/harbour").json()
        assert stored["status"] == "queued"  # not lost: the pump sends it later
    platform.close()


def test_list_is_paginated_and_filtered(tmp_path: Path, tiny_sd15_path: Path) -> None:
    environ = {"IMAJIN_DATA_DIR": str(tmp_path / "data"), "IMAJIN_JOBS__WORKERS": "0"}
    write_tiny_manifest(tmp_path / "data", {"tiny-sd15": tiny_sd15_path})
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    with LiveServer(create_app(platform)) as live:
        for index, category in enumerate(["streets", "streets", "parks"]):
            body = {
                "name": f"v{index}",
                "category": category,
                "families": ["og"],
                "generation": {"prompt": "a quiet place", "model": "tiny-sd15"},
            }
            assert httpx.post(live.url + "/api/images/variations", json=body).status_code == 202
        page = httpx.get(
            live.url + "/api/images/variations", params={"category": "streets", "limit": 1}
        ).json()
        assert page["total"] == 2 and len(page["items"]) == 1
        assert page["items"][0]["name"] == "v1"  # newest first
        second = httpx.get(
            live.url + "/api/images/variations",
            params={"category": "streets", "limit": 1, "offset": 1},
        ).json()
        assert second["items"][0]["name"] == "v0"
    platform.close()
