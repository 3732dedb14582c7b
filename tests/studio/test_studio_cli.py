"""`imajin batch` and `imajin sets list|show`, rendered in the CLI's own process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imajin.cli import app
from imajin.config.loader import load_settings
from imajin.wiring import build_platform
from tests.studio.conftest import studio_environ, write_set


@pytest.fixture
def env(
    tmp_path: Path, data_dir: Path, tiny_sd15_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("IMAJIN_")]:
        monkeypatch.delenv(name)
    for name, value in studio_environ(data_dir, tiny_sd15_path).items():
        monkeypatch.setenv(name, value)
    return data_dir


def test_sets_list_shows_every_set_and_the_broken_ones(env: Path) -> None:
    write_set(
        env / "sets", "broken", "name: broken\ncsv_path: gone.csv\nprompt_template: x\n", None
    )
    result = CliRunner().invoke(app, ["sets", "list"])
    assert result.exit_code == 0, result.output
    for name in ("mini", "playing-cards", "tarot", "zodiac", "64×64"):
        assert name in result.stdout
    assert "not usable: set 'broken', field `csv_path`" in result.stdout


def test_sets_show_prints_each_prompt(env: Path) -> None:
    result = CliRunner().invoke(app, ["sets", "show", "mini", "--theme", "ukiyo-e"])
    assert result.exit_code == 0, result.output
    assert "Beta Square made of wood" in result.stdout
    assert "columns: name, material, negative_prompt" in result.stdout
    missing = CliRunner().invoke(app, ["sets", "show", "nope"])
    assert missing.exit_code != 0


def test_batch_wait_renders_every_item(env: Path) -> None:
    result = CliRunner().invoke(
        app, ["batch", "--set", "mini", "--theme", "art nouveau", "--seed", "5", "--wait"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.count("succeeded") == 3
    (folder,) = (env / "outputs").iterdir()
    assert folder.name.startswith("mini_")
    assert len(list(folder.glob("*.png"))) == 3 and len(list(folder.glob("*.json"))) == 3


def test_batch_without_wait_only_queues(env: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["batch", "--set", "mini"])
    assert result.exit_code == 0, result.output
    batch_id = result.stdout.strip().splitlines()[-1]
    platform = build_platform(load_settings(cwd=tmp_path))
    try:
        jobs = platform.studio.batch_jobs(batch_id)
        assert [job.status for job in jobs] == ["queued"] * 3
    finally:
        platform.close()
