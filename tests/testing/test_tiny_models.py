"""The tiny pipelines are real diffusers pipelines that save, load and generate offline."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import (
    DiffusionPipeline,
    StableDiffusion3Pipeline,
    StableDiffusionPipeline,
    StableDiffusionXLPipeline,
    ZImagePipeline,
)
from safetensors.torch import load_file

from imajin.testing import MODEL_CARD_NAME, TINY_NATIVE, TINY_STEPS, build_tiny_sd15
from imajin.testing.tokenizer import (
    build_tiny_clip_tokenizer,
    build_tiny_qwen_tokenizer,
    build_tiny_t5_tokenizer,
)

PIPELINE_CLASSES = {
    "sd15": StableDiffusionPipeline,
    "sdxl": StableDiffusionXLPipeline,
    "sd3": StableDiffusion3Pipeline,
    "zimage": ZImagePipeline,
}


@pytest.fixture(params=["sd15", "sdxl", "sd3", "zimage"])
def tiny_model(request: pytest.FixtureRequest) -> tuple[str, Path]:
    family = request.param
    return family, request.getfixturevalue(f"tiny_{family}_path")


def _generate(pipe: DiffusionPipeline, *, seed: int = 0, size: int | None = None) -> np.ndarray:
    image = pipe(
        "a red fox in the snow",
        num_inference_steps=TINY_STEPS,
        height=size,
        width=size,
        generator=torch.Generator().manual_seed(seed),
    ).images[0]
    return np.asarray(image)


def test_tiny_model_loads_back_as_its_real_pipeline_class(tiny_model: tuple[str, Path]) -> None:
    family, path = tiny_model
    pipe = DiffusionPipeline.from_pretrained(path, local_files_only=True)
    assert type(pipe) is PIPELINE_CLASSES[family]
    assert pipe.vae_scale_factor == 8
    assert len(pipe.vae.config.block_out_channels) == 4


def test_tiny_model_generates_native_size_quickly(tiny_model: tuple[str, Path]) -> None:
    family, path = tiny_model
    pipe = DiffusionPipeline.from_pretrained(path, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    native = TINY_NATIVE[family]
    _generate(pipe, size=native)  # warm-up: first calls pay one-off allocation costs
    started = time.perf_counter()
    pixels = _generate(pipe, size=native)
    elapsed = time.perf_counter() - started
    assert pixels.shape == (native, native, 3)
    # Measured about 0.05-0.1 s on 2 CPU cores; the bound leaves room for a busy machine.
    assert elapsed < 1.0, f"4 steps at {native}px took {elapsed:.2f}s"


def test_tiny_model_card_describes_the_folder(tiny_sd15_path: Path) -> None:
    card = json.loads((tiny_sd15_path / MODEL_CARD_NAME).read_text())
    assert card["family"] == "sd15"
    assert card["native"] == 64
    assert card["style"] == "photorealistic"
    assert card["prediction"] == "epsilon"


def test_same_seed_builds_identical_weights(tmp_path: Path) -> None:
    first = build_tiny_sd15(tmp_path / "a", seed=3)
    second = build_tiny_sd15(tmp_path / "b", seed=3)
    third = build_tiny_sd15(tmp_path / "c", seed=4)
    weights = "unet/diffusion_pytorch_model.safetensors"
    a, b, c = (load_file(str(p / weights)) for p in (first, second, third))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_same_seed_generates_identical_pixels(tiny_sdxl_path: Path) -> None:
    pipe = DiffusionPipeline.from_pretrained(tiny_sdxl_path, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    assert np.array_equal(_generate(pipe, seed=5), _generate(pipe, seed=5))
    assert not np.array_equal(_generate(pipe, seed=5), _generate(pipe, seed=6))


@pytest.mark.parametrize(
    "build", [build_tiny_clip_tokenizer, build_tiny_t5_tokenizer, build_tiny_qwen_tokenizer]
)
def test_tokenizers_round_trip(build: object, tmp_path: Path) -> None:
    tokenizer = build()  # type: ignore[operator]
    tokenizer.save_pretrained(tmp_path)
    loaded = type(tokenizer).from_pretrained(tmp_path)
    text = "A Red fox, 2 cats & ünïcode!"
    assert loaded(text)["input_ids"] == tokenizer(text)["input_ids"]
    assert len(set(tokenizer("a cat")["input_ids"])) > 2
