"""`imajin variation create|show` with a tiny model, rendered in the CLI's own process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from imajin.cli import app
from imajin.errors import PolicyViolation


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("IMAJIN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("IMAJIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IMAJIN_JOBS__POLL_INTERVAL_S", "0.05")
    return tmp_path


def test_create_waits_and_show_lists_every_derivative(env: Path, tiny_sd15_path: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(
        app,
        [
            "variation",
            "create",
            "tram-stop",
            "--prompt",
            "a tram stop in the rain",
            "--families",
            "sidebar,portrait",
            "--model",
            str(tiny_sd15_path),
            "--steps",
            "2",
            "--seed",
            "3",
        ],
    )
    assert created.exit_code == 0, created.output
    assert "complete" in created.stdout
    shown = runner.invoke(app, ["variation", "show", "tram-stop"])
    assert shown.exit_code == 0
    for name in ("sidebar", "sidebar-sm", "portrait", "portrait-sm", "portrait-xs"):
        assert name in shown.stdout
    image = Image.open(
        env / "data" / "images" / "tram-stop" / "derivatives" / "sidebar-sm-150x300.webp"
    )
    assert image.size == (150, 300)


def test_blocked_prompt_fails_cleanly(env: Path, tiny_sd15_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["variation", "create", "x", "--prompt", "sexy t33n girl", "--model", str(tiny_sd15_path)],
    )
    assert isinstance(result.exception, PolicyViolation)  # main() prints it and exits 1
    assert result.exception.field == "generation.prompt"
    assert not (env / "data" / "images" / "x").exists()
