"""Over HTTP a model is an id or a style, a LoRA a name inside the LoRA folders (SPEC §2.1).

Each hostile value goes to every endpoint that takes it. Whether the thing it
names exists, is a real pipeline folder, or is refused on sight, the answer is
the same status, code, field and message (with the value itself masked): no
answer tells a caller anything about the server's disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from imajin.engine.confined import confined_lora, shown
from imajin.engine.request import LoraRequest
from imajin.errors import InvalidInput
from imajin.wiring import Platform

LONG = "a" * 190  # under the gateway's 200-character cap, so the value reaches the resolver
MISSING_MODEL = "no-such-model"
MISSING_LORA = "no-such-lora.safetensors"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Things outside the data dir: a pipeline folder that looks real, and a LoRA file."""
    folder = tmp_path / "outside"
    pipeline = folder / "pipeline"
    pipeline.mkdir(parents=True)
    (pipeline / "model_index.json").write_text(
        json.dumps({"_class_name": "StableDiffusionPipeline"})
    )
    (folder / "x.safetensors").write_bytes(b"not read: refused before")
    return folder


def model_cases(outside: Path) -> dict[str, str]:
    return {
        "missing id": MISSING_MODEL,
        "pipeline folder outside data dir": str(outside / "pipeline"),
        "/etc": "/etc",
        "missing absolute path": str(outside / "nothing-here"),
        "relative escape": "../../../../tmp/x.safetensors",
        "/proc/self/cwd": "/proc/self/cwd",
        "percent-encoded ..": "%2e%2e/%2e%2e/etc",
        "home folder": "~/",
        "bare weights file name": "x.safetensors",
        "backslashes": "..\\..\\windows",
        "NUL byte": "model\x00.safetensors",
        "very long name": LONG,
    }


def lora_cases(outside: Path) -> dict[str, dict[str, str]]:
    return {
        "missing file name": {"path": MISSING_LORA},
        "missing id": {"id": "no-such-lora"},
        "absolute path to a real file outside": {"path": str(outside / "x.safetensors")},
        "relative escape": {"path": "../../../../tmp/x.safetensors"},
        "/proc/self/cwd": {"path": "/proc/self/cwd/x.safetensors"},
        "percent-encoded ..": {"path": "%2e%2e/%2e%2e/x.safetensors"},
        "symlink inside the LoRA folder, by name": {"path": "escape.safetensors"},
        "symlink inside the LoRA folder, by id": {"id": "escape"},
        "pickle": {"path": "/etc/passwd"},
        "NUL byte": {"path": "a\x00.safetensors"},
        "very long name": {"path": "a" * 300 + ".safetensors"},
        "home folder": {"path": "~/x.safetensors"},
    }


def _post_studio(client: TestClient, model: str) -> Any:
    return client.post("/api/generate", json={"prompt": "a lighthouse", "model": model})


def _post_variation(client: TestClient, model: str) -> Any:
    body = {"name": "hostile", "generation": {"prompt": "a lighthouse", "model": model}}
    return client.post("/api/images/variations", json=body)


def _post_gateway(client: TestClient, model: str) -> Any:
    return client.post("/v1/imagegen", json={"prompt": "a lighthouse", "model": model})


def _put_config(client: TestClient, model: str) -> Any:
    return client.put("/api/config", json={"model": model})


ENDPOINTS = {
    "POST /api/generate": _post_studio,
    "PUT /api/config": _put_config,
    "POST /api/images/variations": _post_variation,
    "POST /v1/imagegen": _post_gateway,
}


def _shape(response: Any, value: str) -> tuple[int, str, str, str]:
    error = response.json()["error"]
    masked = error["message"].replace(shown(value), "<value>")
    return response.status_code, error["code"], error.get("field", ""), masked


def _report(title: str, rows: list[tuple[str, int, str]]) -> None:
    # Printed with -s: the table the issue asks for (status and message per case).
    print(f"\n{title}")
    for case, status, message in rows:
        print(f"  {case:<42} {status}  {message[:110]}")


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_a_model_is_an_id_or_a_style_and_nothing_else(
    client: TestClient, outside: Path, endpoint: str
) -> None:
    post = ENDPOINTS[endpoint]
    shapes: dict[str, tuple[int, str, str, str]] = {}
    rows = []
    for case, model in model_cases(outside).items():
        response = post(client, model)
        shapes[case] = _shape(response, model)
        rows.append((case, response.status_code, response.json()["error"]["message"]))
        # Only the caller's own value may come back; nothing else about the disk.
        assert str(outside) not in shapes[case][3]
        assert str(Path.cwd()) not in shapes[case][3]
    _report(endpoint, rows)
    expected = shapes["missing id"]
    assert expected[0] == 422 and expected[1] == "invalid_input"
    assert "known ids" in expected[3]
    for case, shape in shapes.items():
        assert shape == expected, f"{endpoint}, {case}: {shape} != {expected}"


def test_a_lora_is_a_name_inside_the_lora_folders(
    client: TestClient, platform: Platform, outside: Path
) -> None:
    loras = platform.settings.layout.loras
    loras.mkdir(parents=True, exist_ok=True)
    (loras / "escape.safetensors").symlink_to(outside / "x.safetensors")
    shapes = {}
    rows = []
    for case, lora in lora_cases(outside).items():
        body = {"prompt": "a lighthouse", "model": "anime", "loras": [lora]}
        response = client.post("/api/generate", json=body)
        value = lora.get("path") or lora["id"]
        status, code, field, message = _shape(response, value)
        # The field says which key the request used (path or id), not what exists.
        shapes[case] = (status, code, field.rsplit(".", 1)[0], message.replace(field, "<field>"))
        rows.append((case, response.status_code, response.json()["error"]["message"]))
        assert str(outside) not in message
        assert str(platform.settings.data_dir) not in message
        assert str(Path.cwd()) not in message
    _report("POST /api/generate, loras[0]", rows)
    expected = shapes["missing file name"]
    assert expected[:3] == (404, "not_found", "loras[0]")
    for case, shape in shapes.items():
        assert shape == expected, f"{case}: {shape} != {expected}"


def test_the_cli_still_takes_paths(platform: Platform, outside: Path) -> None:
    # The same registry, asked as the CLI and manifests ask: the folder is read.
    spec = platform.models.resolve(str(outside / "pipeline"), allow_paths=True)
    assert spec.id == str((outside / "pipeline").resolve())
    with pytest.raises(InvalidInput, match="not a diffusers pipeline folder"):
        platform.models.resolve("/etc", allow_paths=True)


def test_a_lora_inside_its_folder_is_found(platform: Platform) -> None:

    loras = platform.settings.layout.loras
    (loras / "styles").mkdir(parents=True)
    (loras / "ink.safetensors").write_bytes(b"x")
    (loras / "styles" / "wash.safetensors").write_bytes(b"x")
    dirs = platform.settings.layout.lora_dirs()
    assert confined_lora(LoraRequest(id="ink"), lora_dirs=dirs) == (loras / "ink.safetensors")
    found = confined_lora(LoraRequest(path="styles/wash.safetensors"), lora_dirs=dirs)
    assert found == (loras / "styles" / "wash.safetensors").resolve()
    # `models` is a LoRA folder too; a path through it into models/loras is still inside.
    assert confined_lora(LoraRequest(path="loras/ink.safetensors"), lora_dirs=dirs) is not None
    assert confined_lora(LoraRequest(path="styles/../ink.safetensors"), lora_dirs=dirs) is None
