"""`imajin profile selfie.jpg --output avatar.png`, run as a real subprocess.

The command runs the platform in its own process, with real OpenCV detection on
NASA's public-domain astronaut portrait and the tiny Z-Image pipeline by model id.
No vision model is configured there, so features come from ``--features`` (or the
command says which setting is missing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from imajin.testing.manifest import write_tiny_manifest
from tests.profile.conftest import ADULT_FEATURES, astronaut_jpeg

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path, tiny_zimage_path: Path) -> Path:
    write_tiny_manifest(tmp_path / "data", {"tiny-zimage": tiny_zimage_path})
    (tmp_path / "selfie.jpg").write_bytes(astronaut_jpeg())
    return tmp_path


def _imajin(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("IMAJIN_")}
    environ.update(
        IMAJIN_DATA_DIR=str(home / "data"),
        IMAJIN_GATEWAY__MODEL="tiny-zimage",
        IMAJIN_JOBS__POLL_INTERVAL_S="0.05",
    )
    return subprocess.run(
        [sys.executable, "-m", "imajin", "profile", *args],
        cwd=home,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_profile_prints_face_and_features_and_writes_the_avatar(home: Path) -> None:
    (home / "features.json").write_text(json.dumps(ADULT_FEATURES), encoding="utf-8")
    result = _imajin(
        home, "selfie.jpg", "--features", "features.json", "--output", "out/avatar.png",
        "--seed", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    face = dict(part.split("=") for part in lines[0].split("  ")[0][len("face: ") :].split())
    assert 150 < int(face["x"]) < 200 and 40 < int(face["y"]) < 100
    assert "quality: 0." in lines[0] and "found: 1" in lines[0]
    assert json.loads(lines[1][len("features: ") :]) == ADULT_FEATURES
    assert lines[2].startswith("prompt:") and "clearly adult proportions" in lines[2]
    assert lines[3] == "seed: 3"
    with Image.open(home / "out" / "avatar.png") as avatar:
        assert avatar.format == "PNG" and avatar.size[0] > 0


def test_without_a_vision_model_it_prints_the_face_and_names_the_setting(home: Path) -> None:
    result = _imajin(home, "selfie.jpg", "--output", "avatar.png")
    assert result.returncode == 1
    assert result.stdout.startswith("face: x=")
    assert "vision.features_model" in result.stderr
    assert not (home / "avatar.png").exists()


def test_a_file_that_is_no_image_is_refused(home: Path) -> None:
    (home / "notes.jpg").write_text("not a photo\n" * 50, encoding="utf-8")
    result = _imajin(home, "notes.jpg")
    assert result.returncode == 1 and "not an image" in result.stderr
