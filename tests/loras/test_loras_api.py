"""``GET /api/loras`` over a data directory with real tiny LoRAs, and the model picker's fields."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from imajin.api.app import create_app
from imajin.client import ImajinClient
from imajin.config.loader import load_settings
from imajin.store.migrate import upgrade
from imajin.testing.manifest import install_loras, write_tiny_manifest
from imajin.wiring import build_platform
from tests.conftest import LiveServer


def _write_safetensors(path: Path, tensors: dict[str, list[int]], metadata: dict[str, str]) -> None:
    """A header-only safetensors file (zero-filled float32 data) with the given shapes."""
    header: dict[str, object] = {"__metadata__": metadata}
    offset = 0
    for key, shape in tensors.items():
        size = 4
        for n in shape:
            size *= n
        header[key] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(offset))


@pytest.fixture
def data_dir(
    tmp_path: Path,
    tiny_sd15_path: Path,
    tiny_sdxl_path: Path,
    tiny_sd15_lora: Path,
    tiny_sdxl_lora: Path,
) -> Path:
    data = tmp_path / "data"
    write_tiny_manifest(data, {"tiny-sd15": tiny_sd15_path, "tiny-sdxl": tiny_sdxl_path})
    folder = install_loras(data, {"one-sd15": tiny_sd15_lora, "two-sdxl": tiny_sdxl_lora})
    # A LoRA whose metadata names its architecture, with no widths to go by.
    _write_safetensors(
        folder / "declared-flux.safetensors",
        {"transformer.x.lora_A.weight": [2, 4], "transformer.x.lora_B.weight": [4, 2]},
        {"modelspec.architecture": "flux-1-dev/lora"},
    )
    # Not LoRAs: a base checkpoint in data/models, a text file, a broken file.
    _write_safetensors(data / "models" / "base.safetensors", {"conv.weight": [2, 2]}, {})
    (folder / "notes.txt").write_text("not a LoRA", encoding="utf-8")
    (folder / "broken.safetensors").write_bytes(b"\x01\x02")
    # A symlink out of the LoRA folder: a valid LoRA, but outside, so not listed.
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.safetensors").write_bytes(tiny_sd15_lora.read_bytes())
    (folder / "escape.safetensors").symlink_to(outside / "secret.safetensors")
    return data


@pytest.fixture
def client(tmp_path: Path, data_dir: Path) -> Iterator[TestClient]:
    environ = {"IMAJIN_DATA_DIR": str(data_dir), "IMAJIN_ENGINE__DEVICE": "cpu"}
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    with TestClient(create_app(platform)) as test_client:
        yield test_client
    platform.close()


def test_lists_each_lora_with_its_architecture(client: TestClient, tiny_sd15_lora: Path) -> None:
    answer = client.get("/api/loras")
    assert answer.status_code == 200
    listed = {entry["id"]: entry for entry in answer.json()}
    assert sorted(listed) == ["declared-flux", "one-sd15", "two-sdxl"]
    assert listed["one-sd15"]["architecture"] == "sd15"
    assert listed["one-sd15"]["sizeBytes"] == tiny_sd15_lora.stat().st_size
    assert listed["one-sd15"]["file"] == "one-sd15.safetensors"
    assert listed["two-sdxl"]["architecture"] == "sdxl"
    assert listed["declared-flux"]["architecture"] == "flux"
    assert all(entry["compatible"] is None for entry in listed.values())


def test_model_marks_the_loras_that_do_not_fit(client: TestClient) -> None:
    listed = {e["id"]: e for e in client.get("/api/loras", params={"model": "tiny-sd15"}).json()}
    assert listed["one-sd15"]["compatible"] is True
    assert listed["one-sd15"]["reason"] is None
    assert listed["two-sdxl"]["compatible"] is False
    assert "SDXL" in listed["two-sdxl"]["reason"]
    assert "tiny-sd15" in listed["two-sdxl"]["reason"]
    on_sdxl = {e["id"]: e for e in client.get("/api/loras?model=tiny-sdxl").json()}
    assert on_sdxl["two-sdxl"]["compatible"] is True
    assert on_sdxl["one-sd15"]["compatible"] is False


def test_an_unknown_model_is_a_404_naming_the_field(client: TestClient) -> None:
    answer = client.get("/api/loras", params={"model": "no-such-model"})
    assert answer.status_code == 404
    assert answer.json()["error"]["field"] == "model"


def test_a_listed_lora_is_one_a_request_can_name(client: TestClient) -> None:
    """What the picker shows resolves by id; the symlinked one is refused like a missing one."""
    for lora_id, expected in (("one-sd15", 202), ("escape", 404)):
        answer = client.post(
            "/api/generate",
            json={"prompt": "a red circle", "model": "tiny-sd15", "loras": [{"id": lora_id}]},
        )
        assert answer.status_code == expected, answer.text


def test_models_list_says_family_downloaded_and_samplers(
    client: TestClient, tmp_path: Path
) -> None:
    models = {m["model_id"]: m for m in client.get("/api/images/models").json()}
    sd15 = models["tiny-sd15"]
    assert (sd15["family"], sd15["type"], sd15["loaded"], sd15["downloaded"]) == (
        "sd15",
        "photorealistic",
        False,
        True,
    )
    assert sd15["scheduler"] in sd15["samplers"]
    assert "euler_a" in sd15["samplers"]
    # Shipped hub models are not in this test's (empty) hub cache.
    assert models["juggernaut-xi-v11"]["downloaded"] is False


def test_the_client_lists_loras(data_dir: Path, tmp_path: Path) -> None:
    environ = {"IMAJIN_DATA_DIR": str(data_dir)}
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    try:
        with LiveServer(create_app(platform)) as live, ImajinClient(live.url) as imajin:
            listed = imajin.list_loras(model="tiny-sdxl")
    finally:
        platform.close()
    assert [(lora.id, lora.compatible) for lora in listed] == [
        ("declared-flux", False),
        ("one-sd15", False),
        ("two-sdxl", True),
    ]
