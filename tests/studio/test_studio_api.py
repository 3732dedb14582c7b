"""Sets, prompt previews, themes and single generations over HTTP."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from imajin.engine.metadata import read_metadata
from imajin.errors import ConfigError
from imajin.studio.themes import load_themes
from imajin.wiring import Platform
from tests.conftest import LiveServer


def test_sets_are_listed_with_their_summary(served: tuple[LiveServer, Platform]) -> None:
    live, _ = served
    listed = {s["name"]: s for s in httpx.get(f"{live.url}/api/sets").json()}
    assert set(listed) == {"mini", "playing-cards", "tarot", "zodiac"}
    assert listed["mini"] == {
        "name": "mini",
        "description": "Three shapes for tests.",
        "item_count": 3,
        "width": 64,
        "height": 64,
        "example_theme": "pastel colours",
    }
    assert listed["playing-cards"]["item_count"] == 54


def test_set_info_previews_every_prompt(served: tuple[LiveServer, Platform]) -> None:
    live, _ = served
    info = httpx.get(f"{live.url}/api/sets/mini/info", params={"theme": "ukiyo-e"}).json()
    assert info["columns"] == ["name", "material", "negative_prompt"]
    assert info["prompt_template"] == "{name} made of {material}"
    assert info["negative_prompt"] == "text, watermark" and info["loras"] == []
    assert info["items"][1] == {
        "index": 1,
        "item": "Beta Square",
        "values": {"name": "Beta Square", "material": "wood", "negative_prompt": "knots"},
        "prompt": "a flat icon, ukiyo-e, Beta Square made of wood, clean vector style",
    }
    example = httpx.get(f"{live.url}/api/sets/tarot/info").json()
    assert len(example["items"]) == 22
    assert example["items"][0]["prompt"].startswith(
        "a single tarot card, vertical, ornate border, art nouveau, gold leaf, The Fool (0): "
    )
    assert httpx.get(f"{live.url}/api/sets/nope/info").status_code == 404


def test_random_themes_come_from_the_data_file(served: tuple[LiveServer, Platform]) -> None:
    live, _ = served
    themes = set(load_themes())
    assert {"art nouveau, gold leaf", "ukiyo-e woodblock"} <= themes and len(themes) >= 30
    seen = {httpx.get(f"{live.url}/api/themes/random").json()["theme"] for _ in range(12)}
    assert seen <= themes and len(seen) > 1


def test_an_operator_themes_file_replaces_the_shipped_one(tmp_path: Path) -> None:
    mine = tmp_path / "themes.yaml"
    mine.write_text("- brutalist concrete\n- paper lantern glow\n", encoding="utf-8")
    assert load_themes(mine) == ["brutalist concrete", "paper lantern glow"]
    mine.write_text("themes: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="holds no themes"):
        load_themes(mine)


def wait_job(live: LiveServer, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = httpx.get(f"{live.url}/api/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_generate_writes_into_a_single_folder(
    served: tuple[LiveServer, Platform], tiny_sd15_lora: Path
) -> None:
    live, platform = served
    # Over HTTP a LoRA is a file name inside the LoRA folders (SPEC §2.1).
    loras = platform.settings.layout.loras
    loras.mkdir(parents=True, exist_ok=True)
    shutil.copy(tiny_sd15_lora, loras / tiny_sd15_lora.name)
    body = {
        "prompt": "a lighthouse at dusk",
        "seed": 11,
        "num_images": 2,
        "width": 64,
        "height": 72,
        "loras": [{"path": tiny_sd15_lora.name, "weight": 0.5}],
    }
    response = httpx.post(f"{live.url}/api/generate", json=body, timeout=30)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == {"job_id", "status"} and accepted["status"] == "queued"
    job = wait_job(live, accepted["job_id"])
    assert job["status"] == "succeeded", job
    assert job["kind"] == "generate"
    images = job["result"]["images"]
    assert [image["seed"] for image in images] == [11, 12]
    outputs = platform.settings.data_dir / "outputs"
    for image in images:
        folder, name = image["image"].split("/")
        assert folder.startswith("single_") and name.endswith(f"_{image['seed']}.png")
        parameters = read_metadata(outputs / image["image"])
        assert read_metadata(outputs / image["sidecar"]) == parameters
        assert (parameters.width, parameters.height, parameters.steps) == (64, 72, 2)
        assert [lora.weight for lora in parameters.loras] == [0.5]
        assert httpx.get(live.url + image["imageUrl"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"prompt": "nude child on a bed"}, 422, "prompt"),
        ({"prompt": "a cat", "model": "no-such-model"}, 422, "model"),
        ({"prompt": "a cat", "width": 500}, 422, "width"),
        ({"prompt": "a cat", "steps": 101}, 422, "steps"),
        ({"prompt": "a cat", "loras": [{"path": "/nowhere/x.safetensors"}]}, 404, "loras[0].path"),
        ({"prompt": "a cat", "loras": [{"id": "nothing-here"}]}, 404, "loras[0].id"),
        ({"prompt": "a cat", "sampler": "euler"}, 422, "sampler"),
    ],
)
def test_bad_generate_requests_queue_nothing(
    served: tuple[LiveServer, Platform], body: dict[str, Any], status: int, field: str
) -> None:
    live, platform = served
    response = httpx.post(f"{live.url}/api/generate", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert platform.jobs.repository.page()[1] == 0
    outputs = platform.settings.data_dir / "outputs"
    assert not outputs.exists() or list(outputs.iterdir()) == []
