"""The generate / inspect commands' helpers and error paths, on the real root app."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from imajin.cli import app
from imajin.cli.engine_commands import output_paths, parse_lora_option


@pytest.fixture
def generate(
    tiny_sd15_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """``imajin generate --model TINY ARGS`` on the real root app, in this process.

    The full round trip (generate, ``--from``, ``inspect``, ``models list``) runs as a
    subprocess in ``tests/cli/test_commands.py``; these cover the error paths quickly.
    """
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("IMAJIN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("IMAJIN_DATA_DIR", str(tmp_path / "data"))

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, ["generate", "--model", str(tiny_sd15_path), *args])

    return run


def test_generate_reports_errors_plainly(generate: Callable[..., Result], tmp_path: Path) -> None:
    result = generate("-p", "a fox", "--width", "100", "-o", str(tmp_path))
    assert result.exit_code == 1
    assert "width must be a multiple of 8" in result.output
    assert "Traceback" not in result.output
    result = generate()
    assert result.exit_code != 0
    assert "--prompt" in result.output


def test_inspect_prints_markup_literally(generate: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    assert generate("-p", "a [bold] fox", "--steps", "2", "-o", str(out)).exit_code == 0
    shown = CliRunner().invoke(app, ["inspect", str(out)])
    assert shown.exit_code == 0 and "a [bold] fox" in shown.output


def test_lora_option_and_output_paths(tmp_path: Path) -> None:
    assert parse_lora_option("/l/ink.safetensors:0.5") == {
        "path": "/l/ink.safetensors",
        "weight": 0.5,
    }
    assert parse_lora_option("ink:1.2") == {"id": "ink", "weight": 1.2}
    assert parse_lora_option("ink") == {"id": "ink", "weight": 1.0}
    assert parse_lora_option(r"C:\l\ink.safetensors") == {
        "path": r"C:\l\ink.safetensors",
        "weight": 1.0,
    }
    assert output_paths(tmp_path / "a.png", seeds=[1, 2]) == [
        tmp_path / "a-1.png",
        tmp_path / "a-2.png",
    ]
    assert output_paths(tmp_path / "a.webp", seeds=[1]) == [tmp_path / "a.webp"]
