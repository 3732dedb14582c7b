"""`imajin train-lora` through Typer's test runner, with the tiny SD 1.5."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from imajin.cli.train_commands import train_lora


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """An app with only `train-lora`, over a private data directory (as the lead registers it)."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("IMAJIN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("IMAJIN_DATA_DIR", str(tmp_path / "data"))
    app = typer.Typer()
    app.callback()(lambda: None)  # keep `train-lora` a sub-command, as on the root app
    app.command("train-lora")(train_lora)
    return app


def test_train_then_resume_from_the_command_line(
    cli: typer.Typer, tiny_sd15_path: Path, training_dir: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out" / "shapes.safetensors"
    args = [
        "train-lora",
        "--data",
        str(training_dir),
        "--base",
        str(tiny_sd15_path),
        "--output",
        str(output),
        "--rank",
        "4",
        "--resolution",
        "64",
        "--save-every",
        "2",
        "--device",
        "cpu",
    ]
    result = CliRunner().invoke(cli, [*args, "--max-steps", "2"])
    assert result.exit_code == 0, result.output
    assert "Saved LoRA" in result.output and "2 steps on 5 images" in result.output
    assert output.is_file()
    resumed = CliRunner().invoke(cli, [*args, "--max-steps", "4"])
    assert resumed.exit_code == 0, resumed.output
    assert "4 steps" in resumed.output
    assert (output.parent / "shapes.checkpoints" / "step-0000004").is_dir()


def test_errors_say_how_to_fix_them(
    cli: typer.Typer, tiny_sd15_path: Path, training_dir: Path, tmp_path: Path
) -> None:
    (training_dir / "item02.txt").unlink()
    base = ["train-lora", "--data", str(training_dir), "--base", str(tiny_sd15_path)]
    output = ["--output", str(tmp_path / "x.safetensors")]
    missing = CliRunner().invoke(cli, [*base, *output])
    assert missing.exit_code == 1
    assert "item02.png has no caption" in missing.output and "item02.txt" in missing.output
    odd = CliRunner().invoke(cli, [*base, *output, "--resolution", "100"])
    assert odd.exit_code == 1 and "--resolution" in odd.output and "multiple of 8" in odd.output
    unknown = CliRunner().invoke(cli, [*base[:3], "--base", "no-such-model", *output])
    assert unknown.exit_code == 1 and "unknown model 'no-such-model'" in unknown.output


def test_help_lists_every_option(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["train-lora", "--help"])
    assert result.exit_code == 0
    for option in ("--data", "--base", "--output", "--rank", "--alpha", "--dropout"):
        assert option in result.output
    for option in ("--learning-rate", "--max-steps", "--save-every", "--resolution", "--seed"):
        assert option in result.output
    assert "--no-resume" in result.output


def test_ctrl_c_says_how_to_resume(
    cli: typer.Typer,
    tiny_sd15_path: Path,
    training_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from imajin.training import trainer  # noqa: PLC0415

    def interrupted(**_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "train_lora", interrupted)
    args = ["--data", str(training_dir), "--base", str(tiny_sd15_path)]
    result = CliRunner().invoke(
        cli, ["train-lora", *args, "--output", str(tmp_path / "x.safetensors")]
    )
    assert result.exit_code == 130
    assert "Run the same command again to continue from the start" in result.output
