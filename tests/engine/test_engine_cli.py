"""The generate / inspect / models commands, run through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from imajin.cli.engine_commands import output_paths, parse_lora_option, register
from imajin.engine import Engine, read_metadata


@pytest.fixture
def cli(tiny_engine: Engine) -> typer.Typer:
    app = typer.Typer()
    register(app, engine_factory=lambda: tiny_engine)
    return app


def test_generate_then_regenerate_from_file(
    cli: typer.Typer, tiny_sd15_lora: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "fox.png"
    args = ["generate", "--prompt", "a fox", "--seed", "5", "--steps", "3", "-o", str(out)]
    result = runner.invoke(cli, [*args, "--lora", f"{tiny_sd15_lora}:0.7", "--scheduler", "euler"])
    assert result.exit_code == 0, result.output
    params = read_metadata(out)
    assert (params.seed, params.steps, params.scheduler) == (5, 3, "euler")
    assert params.loras[0].weight == 0.7

    again = tmp_path / "again.png"
    result = runner.invoke(cli, ["generate", "--from", str(out), "-o", str(again)])
    assert result.exit_code == 0, result.output
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(again)))

    other = tmp_path / "other.png"
    result = runner.invoke(cli, ["generate", "--from", str(out), "--seed", "6", "-o", str(other)])
    assert result.exit_code == 0, result.output
    assert read_metadata(other).seed == 6


def test_generate_several_into_a_folder(cli: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["generate", "-p", "a fox", "--seed", "1", "-n", "2", "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "out").glob("*.png"))
    assert [read_metadata(f).seed for f in files] == [1, 2]


def test_generate_reports_errors_plainly(cli: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["generate", "-p", "a fox", "--width", "100", "-o", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "width must be a multiple of 8" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["generate"])
    assert result.exit_code != 0
    assert "--prompt" in result.output


def test_inspect_and_models_list(cli: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "x.png"
    assert (
        runner.invoke(
            cli, ["generate", "-p", "a [bold] fox", "--seed", "2", "-o", str(out)]
        ).exit_code
        == 0
    )
    shown = runner.invoke(cli, ["inspect", str(out)])
    assert shown.exit_code == 0 and "a [bold] fox" in shown.output
    as_json = runner.invoke(cli, ["inspect", "--json", str(out)])
    assert json.loads(as_json.output)["seed"] == 2
    text = runner.invoke(cli, ["inspect", "--a1111", str(out)])
    assert "Seed: 2" in text.output
    listed = runner.invoke(cli, ["models", "list", "--json"])
    rows = {row["id"]: row for row in json.loads(listed.output)}
    assert rows["tiny-sd15"]["loaded"] is True
    assert "juggernaut-xi-v11" in rows
    table = runner.invoke(cli, ["models", "list"])
    assert table.exit_code == 0 and "tiny-sdxl" in table.output


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
