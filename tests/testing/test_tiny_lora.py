"""Tiny LoRA files are real PEFT LoRAs that diffusers loads and that change images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import DiffusionPipeline
from safetensors import safe_open
from typer.testing import CliRunner

from imajin.cli.dev_commands import app
from imajin.engine.loaders import freeze
from imajin.testing import LORA_ARCHITECTURES, build_tiny_lora


def _render(pipe: DiffusionPipeline) -> np.ndarray:
    image = pipe(
        "a lighthouse",
        num_inference_steps=4,
        height=64,
        width=64,
        generator=torch.Generator().manual_seed(0),
    ).images[0]
    return np.asarray(image).astype(np.int16)


@pytest.mark.parametrize("family", ["sd15", "sdxl", "sd3", "zimage"])
def test_lora_loads_and_changes_output(
    family: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    base = request.getfixturevalue(f"tiny_{family}_path")
    lora = build_tiny_lora(base, tmp_path / f"{family}.safetensors", family=family)  # type: ignore[arg-type]
    with safe_open(str(lora), framework="pt") as handle:
        header = handle.metadata()
        keys = list(handle.keys())
    assert header["modelspec.architecture"] == LORA_ARCHITECTURES[family]  # type: ignore[index]
    assert any(".lora_B." in key for key in keys)

    pipe = DiffusionPipeline.from_pretrained(base, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    # Frozen as the engine loads it: PEFT freezes the base, and on AVX-512 CPUs frozen
    # weights round differently, so "unloaded equals before" needs a frozen "before".
    freeze(pipe)
    before = _render(pipe)
    pipe.load_lora_weights(str(lora), adapter_name="tiny")
    with_lora = _render(pipe)
    pipe.unload_lora_weights()
    assert np.abs(with_lora - before).mean() > 1.0
    assert np.array_equal(_render(pipe), before)


def test_lora_b_is_not_zero(tiny_sd15_lora: Path) -> None:
    with safe_open(str(tiny_sd15_lora), framework="pt") as handle:
        b_tensors = [handle.get_tensor(k) for k in handle.keys() if ".lora_B." in k]  # noqa: SIM118
    assert b_tensors
    assert all(t.abs().sum() > 0 for t in b_tensors)


def test_lora_without_header(tiny_sd15_path: Path, tmp_path: Path) -> None:
    lora = build_tiny_lora(
        tiny_sd15_path, tmp_path / "bare.safetensors", family="sd15", with_architecture=False
    )
    with safe_open(str(lora), framework="pt") as handle:
        assert "modelspec.architecture" not in (handle.metadata() or {})


def test_dev_cli_builds_model_and_lora(tmp_path: Path) -> None:
    runner = CliRunner()
    model_dir = tmp_path / "model"
    result = runner.invoke(app, ["tiny-model", "--family", "sd15", str(model_dir)])
    assert result.exit_code == 0, result.output
    assert (model_dir / "model_index.json").is_file()
    lora = tmp_path / "lora.safetensors"
    result = runner.invoke(
        app, ["tiny-lora", "--family", "sd15", "--base", str(model_dir), str(lora)]
    )
    assert result.exit_code == 0, result.output
    assert lora.is_file()


def test_dev_cli_refuses_a_missing_base(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["tiny-lora", "--base", str(tmp_path / "nope"), str(tmp_path / "x.safetensors")]
    )
    assert result.exit_code != 0
    assert "tiny-model" in result.output
