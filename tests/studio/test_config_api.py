"""``GET/PUT /api/config``: admin-only, checked as a whole, saved atomically or not at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from imajin.config.loader import load_settings
from imajin.config.settings import Scope
from imajin.engine.metadata import read_metadata
from imajin.errors import ConfigError
from imajin.studio.runtime_config import RUNTIME_FILE
from imajin.wiring import Platform, build_platform
from tests.conftest import LiveServer
from tests.studio.conftest import studio_environ, wait_batch


def keys_for(platform: Platform) -> dict[Scope, dict[str, str]]:
    """A key per scope (creating one switches auth on), as request headers."""
    return {
        scope: {"Authorization": f"Bearer {platform.keys.create(scopes=[scope])[1]}"}
        for scope in Scope
    }


def test_get_shows_the_defaults_in_force(
    served: tuple[LiveServer, Platform], tiny_sd15_path: Path
) -> None:
    live, _ = served
    assert httpx.get(f"{live.url}/api/config").json() == {
        "model": str(tiny_sd15_path),
        "steps": 2,
        "guidance": None,
        "scheduler": None,
        "image_format": "png",
        "webp_quality": 95,
    }


def test_put_applies_saves_and_survives_a_restart(
    served: tuple[LiveServer, Platform], tmp_path: Path, tiny_sd15_path: Path
) -> None:
    live, platform = served
    change = {"steps": 3, "guidance": 6.5, "scheduler": "euler_a", "image_format": "webp"}
    response = httpx.put(f"{live.url}/api/config", json=change)
    assert response.status_code == 200, response.text
    assert response.json() == {**httpx.get(f"{live.url}/api/config").json(), **change}
    saved = (platform.settings.data_dir / RUNTIME_FILE).read_text()
    assert "steps: 3" in saved and "image_format: webp" in saved
    # null puts a value back to "the model's default".
    assert httpx.put(f"{live.url}/api/config", json={"guidance": None}).json()["guidance"] is None

    environ = studio_environ(platform.settings.data_dir, tiny_sd15_path)
    again = build_platform(load_settings(environ=environ, cwd=tmp_path))
    assert again.studio.config.current().model_dump() == {
        "model": str(tiny_sd15_path),
        "steps": 3,
        "guidance": None,
        "scheduler": "euler_a",
        "image_format": "webp",
        "webp_quality": 95,
    }
    again.close()


BAD = [
    ({"steps": 0}, "steps"),
    ({"steps": "many"}, "steps"),
    ({"guidance": 50}, "guidance"),
    ({"image_format": "gif"}, "image_format"),
    ({"webp_quality": 101}, "webp_quality"),
    ({"model": ""}, "model"),
    ({"model": None}, "model"),
    ({"model": "no-such-model"}, "model"),
    ({"scheduler": "warp_drive"}, "scheduler"),
    ({"colour": "red"}, "colour"),
    # One good value and one bad: neither is applied.
    ({"steps": 9, "guidance": 0.5}, "guidance"),
    ({"steps": 9, "scheduler": "warp_drive"}, "scheduler"),
    ({"image_format": "webp", "model": "no-such-model"}, "model"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_values_change_nothing(
    served: tuple[LiveServer, Platform], change: dict[str, Any], field: str
) -> None:
    live, platform = served
    before = httpx.get(f"{live.url}/api/config").json()
    response = httpx.put(f"{live.url}/api/config", json=change)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field, error
    assert field in error["message"]
    assert httpx.get(f"{live.url}/api/config").json() == before
    assert not (platform.settings.data_dir / RUNTIME_FILE).exists()


def test_put_needs_the_admin_scope(served: tuple[LiveServer, Platform]) -> None:
    live, platform = served
    keys = keys_for(platform)
    url = f"{live.url}/api/config"
    assert httpx.put(url, json={"steps": 5}).status_code == 401
    for scope in (Scope.READ, Scope.GENERATE):
        response = httpx.put(url, json={"steps": 5}, headers=keys[scope])
        assert response.status_code == 403, response.text
        assert "admin" in response.json()["error"]["message"]
    assert httpx.get(url, headers=keys[Scope.READ]).json()["steps"] == 2
    assert httpx.put(url, json={"steps": 5}, headers=keys[Scope.ADMIN]).status_code == 200
    assert httpx.get(url, headers=keys[Scope.READ]).json()["steps"] == 5


def test_a_broken_runtime_file_fails_at_start_naming_it(
    data_dir: Path, tmp_path: Path, tiny_sd15_path: Path
) -> None:
    (data_dir / RUNTIME_FILE).write_text("steps: -4\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{RUNTIME_FILE}: steps: .*greater than or equal to 1"):
        build_platform(
            load_settings(environ=studio_environ(data_dir, tiny_sd15_path), cwd=tmp_path)
        )


def test_new_defaults_apply_to_the_next_batch(served: tuple[LiveServer, Platform]) -> None:
    live, platform = served
    change = {"steps": 3, "image_format": "webp", "webp_quality": 80}
    assert httpx.put(f"{live.url}/api/config", json=change).status_code == 200
    created = httpx.post(f"{live.url}/api/generate/batch", json={"set_name": "mini"}).json()
    batch = wait_batch(live, created["batch_id"])
    assert batch["status"] == "complete"
    outputs = platform.studio.outputs.root
    for item in batch["items"]:
        assert item["image_url"].endswith(".webp")
        image = outputs / item["image_url"].removeprefix("/api/outputs/")
        assert read_metadata(image).steps == 3
        assert httpx.get(live.url + item["image_url"]).headers["content-type"] == "image/webp"
