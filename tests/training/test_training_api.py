"""Training over HTTP: the confined folder listing, the defaults, a 3-step run on tiny SD 1.5."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from imajin.api.app import create_app
from imajin.client import ImajinClient
from imajin.config.loader import load_settings
from imajin.config.training import TrainingSettings
from imajin.contracts.training import TrainingOverrides
from imajin.store.migrate import upgrade
from imajin.testing.manifest import write_tiny_manifest
from imajin.training.prepare import TEXT_ENCODERS
from imajin.training.service import TRAINABLE_FAMILIES
from imajin.wiring import Platform, build_platform
from tests.conftest import LiveServer
from tests.training.conftest import write_training_set


@pytest.fixture
def data_dir(tmp_path: Path, tiny_sd15_path: Path, tiny_sd3_path: Path) -> Path:
    data = tmp_path / "data"
    write_tiny_manifest(data, {"tiny-sd15": tiny_sd15_path, "tiny-sd3": tiny_sd3_path})
    area = data / "training"
    write_training_set(area / "shapes", count=3)
    write_training_set(area / "nested" / "deeper", count=2)
    (area / "empty").mkdir()
    write_training_set(area / ".hidden", count=1)
    uncaptioned = write_training_set(area / "uncaptioned", count=2)
    (uncaptioned / "item01.txt").write_text("  \n", encoding="utf-8")
    outside = write_training_set(tmp_path / "outside", count=2)
    (area / "escape").symlink_to(outside, target_is_directory=True)
    return data


@pytest.fixture
def served(tmp_path: Path, data_dir: Path) -> Iterator[tuple[LiveServer, Platform]]:
    environ = {
        "IMAJIN_DATA_DIR": str(data_dir),
        "IMAJIN_ENGINE__DEVICE": "cpu",
        "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05",
        "IMAJIN_TRAINING__RANK": "4",
        "IMAJIN_TRAINING__RESOLUTION": "64",
        "IMAJIN_TRAINING__DEVICE": "cpu",
        "IMAJIN_TRAINING__LEARNING_RATE": "0.01",
        "IMAJIN_TRAINING__SEED": "7",
    }
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    with LiveServer(create_app(platform)) as live:
        yield live, platform
    platform.close()


def _wait(url: str, job_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = httpx.get(f"{url}/api/jobs/{job_id}", timeout=10).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_folders_lists_image_folders_inside_the_training_area_only(
    served: tuple[LiveServer, Platform],
) -> None:
    live, _ = served
    listed = httpx.get(f"{live.url}/api/training/folders").json()
    assert listed == [
        {"path": "nested/deeper", "images": 2, "captioned": 2, "ready": True},
        {"path": "shapes", "images": 3, "captioned": 3, "ready": True},
        {"path": "uncaptioned", "images": 2, "captioned": 1, "ready": False},
    ]


def test_defaults_are_the_configured_settings_and_trainable_bases(
    served: tuple[LiveServer, Platform],
) -> None:
    live, platform = served
    with ImajinClient(live.url) as imajin:
        defaults = imajin.training_defaults()
    assert defaults.settings == platform.settings.training.model_dump(mode="json")
    assert defaults.settings["rank"] == 4
    assert defaults.descriptions.get("rank")
    assert "tiny-sd15" in defaults.bases and "tiny-sd3" not in defaults.bases


def test_trainable_families_match_the_trainer() -> None:
    assert set(TRAINABLE_FAMILIES) == set(TEXT_ENCODERS)


def test_the_overrides_contract_names_every_training_setting() -> None:
    assert set(TrainingOverrides.model_fields) == set(TrainingSettings.model_fields)


def test_a_three_step_run_reports_its_loss_and_the_lora_is_listed(
    served: tuple[LiveServer, Platform],
) -> None:
    live, _ = served
    with ImajinClient(live.url) as imajin:
        job = imajin.start_training(
            {
                "base": "tiny-sd15",
                "output": "shapes-http",
                "folder": "shapes",
                "overrides": {"max_steps": 3, "save_every": 3},
            }
        )
        assert (job.kind, job.queue) == ("train_lora", "training")
        finished = _wait(live.url, job.id)
        events = list(imajin.job_events(job.id))
        loras = {lora.id: lora for lora in imajin.list_loras(model="tiny-sd15")}
    assert finished["status"] == "succeeded", finished
    training = [
        e.payload for e in events if e.type == "JOB_PROGRESS" and e.payload["phase"] == "training"
    ]
    assert training[-1]["step"] == training[-1]["total"] == 3
    losses = [p["loss"] for p in training if p.get("loss") is not None]
    assert losses and all(isinstance(loss, float) and loss > 0 for loss in losses)
    assert finished["result"]["steps"] == 3
    assert "shapes-http" in loras
    assert (loras["shapes-http"].architecture, loras["shapes-http"].compatible) == ("sd15", True)


def test_uploaded_images_with_captions_train_from_a_new_folder(
    served: tuple[LiveServer, Platform],
) -> None:
    live, platform = served
    source = platform.settings.layout.training / "shapes"
    images = [
        {
            "name": f"up{index}.png",
            "imageBase64": base64.b64encode((source / f"item0{index}.png").read_bytes()).decode(),
            "caption": f"an uploaded shape number {index}",
        }
        for index in range(2)
    ]
    body = {
        "base": "tiny-sd15",
        "output": "uploaded",
        "images": images,
        "overrides": {"max_steps": 1, "save_every": 1},
    }
    answer = httpx.post(f"{live.url}/api/training", json=body, timeout=30)
    assert answer.status_code == 202, answer.text
    data = answer.json()["params"]["data"]
    assert data.startswith("uploads/uploaded-")
    folder = platform.settings.layout.training / data
    assert sorted(p.name for p in folder.iterdir()) == ["up0.png", "up0.txt", "up1.png", "up1.txt"]
    assert (folder / "up1.txt").read_text(encoding="utf-8") == "an uploaded shape number 1\n"
    assert _wait(live.url, answer.json()["id"])["status"] == "succeeded"
    listed = {f["path"] for f in httpx.get(f"{live.url}/api/training/folders").json()}
    assert data in listed


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"folder": "../outside"}, 400, "folder"),
        ({"folder": "escape"}, 400, "folder"),
        ({"folder": "missing"}, 404, "folder"),
        ({"base": "tiny-sd3"}, 422, "base"),
        ({"base": "no-such-model"}, 404, "model"),
        ({"overrides": {"rank": 0}}, 422, "overrides.rank"),
        ({"overrides": {"ranks": 4}}, 422, "overrides.ranks"),
        ({"images": [{"name": "a.png", "imageBase64": "aGVsbG8=", "caption": "x"}]}, 422, None),
        (
            {"folder": None, "images": [{"name": "a.png", "imageBase64": "!!", "caption": "x"}]},
            422,
            "images[0]",
        ),
        (
            {
                "folder": None,
                "images": [{"name": "a.png", "imageBase64": "aGVsbG8=", "caption": "x"}],
            },
            422,
            "images[0]",
        ),
    ],
)
def test_bad_requests_name_the_field_and_write_nothing(
    served: tuple[LiveServer, Platform], change: dict[str, Any], status: int, field: str | None
) -> None:
    live, platform = served
    body = {"base": "tiny-sd15", "output": "never", "folder": "shapes", **change}
    body = {key: value for key, value in body.items() if value is not None}
    answer = httpx.post(f"{live.url}/api/training", json=body, timeout=30)
    assert answer.status_code == status, answer.text
    if field is not None:
        assert answer.json()["error"]["field"] == field
    assert not (platform.settings.layout.training / "uploads").exists()
    assert httpx.get(f"{live.url}/api/jobs", params={"kind": "train_lora"}).json()["total"] == 0


def test_an_output_name_that_is_taken_is_a_conflict(
    served: tuple[LiveServer, Platform], tiny_sd15_lora: Path
) -> None:
    live, platform = served
    loras = platform.settings.layout.loras
    loras.mkdir(parents=True, exist_ok=True)
    (loras / "taken.safetensors").write_bytes(tiny_sd15_lora.read_bytes())
    body = {"base": "tiny-sd15", "output": "taken", "folder": "shapes"}
    answer = httpx.post(f"{live.url}/api/training", json=body, timeout=30)
    assert answer.status_code == 409
    assert answer.json()["error"]["field"] == "output"
