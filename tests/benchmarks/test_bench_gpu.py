"""The GPU benchmark: its full-size configs are the published architectures, and its
``--tiny`` run (the same code path on a CPU) prints a complete, positive table."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from benchmarks.gpu.bench_gpu import COLUMNS, FULL_CASES, device_peak_tflops, meta_flops_per_step
from benchmarks.gpu.full_size import build_full_size
from tests.support.benchmarks import run_benchmark

# Parameter counts of the published checkpoints (millions, rounded): a wrong value in
# any config (a layer count, a width, a head size) moves at least one of them.
PUBLISHED_MILLIONS = {
    "sd15": {"unet": 859.5, "text_encoder": 123.1, "vae": 83.7},
    "sdxl": {"unet": 2567.5, "text_encoder": 123.1, "text_encoder_2": 694.7, "vae": 83.7},
    "zimage": {"transformer": 6154.9, "text_encoder": 4022.5, "vae": 83.8},
}


@pytest.mark.parametrize("family", sorted(PUBLISHED_MILLIONS))
def test_full_size_configs_build_the_published_architectures(family: str) -> None:
    # On the meta device: shapes only, no memory, so a 6 B-parameter model builds in a blink.
    pipe = build_full_size(family, device="meta", dtype=torch.bfloat16)
    millions = {
        name: round(sum(p.numel() for p in module.parameters()) / 1e6, 1)
        for name, module in pipe.components.items()
        if isinstance(module, torch.nn.Module)
    }
    assert millions == PUBLISHED_MILLIONS[family]
    assert {p.dtype for p in pipe.components["vae"].parameters()} == {torch.bfloat16}


def test_full_size_flops_are_counted_per_image_with_both_cfg_halves() -> None:
    one = meta_flops_per_step(FULL_CASES["sd15"], batch=1)
    # SD 1.5's UNet: ~0.8 TFLOP per 512² sample; CFG runs two samples per image and step.
    assert 1.5e12 < one < 1.7e12
    assert meta_flops_per_step(FULL_CASES["sd15"], batch=2) == 2 * one


def test_peak_is_the_override_else_none_on_a_cpu() -> None:
    assert device_peak_tflops(torch.device("cpu"), 500.0) == (500.0, "--peak-tflops")
    assert device_peak_tflops(torch.device("cpu"), None)[0] is None


def tiny_run(table: Path, *args: str) -> list[list[str]]:
    """``bench_gpu --tiny ARGS`` as a real subprocess: the cells of its markdown table."""
    tiny = ["--tiny", "--threads", "1", "--repeats", "1", "--output", str(table), *args]
    run_benchmark("benchmarks.gpu.bench_gpu", *tiny)
    lines = table.read_text(encoding="utf-8").splitlines()
    assert "| " + " | ".join(COLUMNS) + " |" in lines
    rows = [line.strip("|").split(" | ") for line in lines if line.startswith("| ")][1:]
    return [[cell.strip() for cell in row] for row in rows]


@pytest.mark.slow
def test_tiny_run_prints_a_row_per_model_variant_and_batch(tmp_path: Path) -> None:
    cells = tiny_run(tmp_path / "table.md")
    assert {(row[0], row[4], row[5]) for row in cells} == {
        (model, variant, batch)
        for model in ("SD 1.5", "SDXL", "Z-Image")
        for variant in ("diffusers", "engine")
        for batch in ("1", "2")
    }
    assert len(cells) == 12
    for row in cells:
        record = dict(zip(COLUMNS, row, strict=True))
        assert record["dtype"] == "float32"
        assert record["steps"] == "2"
        for column in ("s/image", "it/s", "images/s", "denoiser TFLOP/step", "TFLOPS"):
            assert float(record[column]) > 0, (column, row)
        # No VRAM and no device peak on a CPU.
        assert record["peak VRAM GiB"] == "n/a"
        assert record["share of peak"] == "n/a"
    # The denoiser's FLOPs are counted per batch: twice the images, twice the work (CLIP
    # pads every prompt to 77 tokens; Z-Image's captions differ in length, so only more).
    flops = {(row[0], row[4], row[5]): float(row[10]) for row in cells}
    for model in ("SD 1.5", "SDXL"):
        one, two = flops[(model, "engine", "1")], flops[(model, "engine", "2")]
        assert two == pytest.approx(2 * one, rel=1e-3)
    assert flops[("Z-Image", "engine", "2")] > flops[("Z-Image", "engine", "1")]


@pytest.mark.slow
def test_tiny_run_of_the_narrower_documented_selection(tmp_path: Path) -> None:
    # docs/operations.md: `bench_gpu --models sdxl --batches 1,8`, here with --tiny.
    cells = tiny_run(tmp_path / "table.md", "--models", "sdxl", "--batches", "1,8")
    assert sorted((row[0], row[4], row[5]) for row in cells) == [
        ("SDXL", variant, batch) for variant in ("diffusers", "engine") for batch in ("1", "8")
    ]
    flops = {(row[4], row[5]): float(row[10]) for row in cells}
    assert flops[("engine", "8")] == pytest.approx(8 * flops[("engine", "1")], rel=1e-3)
