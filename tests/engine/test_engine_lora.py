"""Multi-LoRA through PEFT adapters: effect, weights, mismatches, and no leaks."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from imajin.engine import Engine, IncompatibleLora
from imajin.errors import InvalidInput
from imajin.testing import build_tiny_lora

PROMPT = {"prompt": "a lighthouse at dusk", "model": "tiny-sd15", "seed": 21}


def render(engine: Engine, loras: list[dict[str, Any]] | None = None, **extra: Any) -> np.ndarray:
    result = engine.generate({**PROMPT, **extra, "loras": loras or []})
    return np.asarray(result.images[0].image).astype(np.int16)


def unet_state(engine: Engine) -> tuple[int, int, set[str]]:
    """Parameter count, module count and adapter names of the warm tiny-sd15 UNet."""
    warm = engine._cache.peek("tiny-sd15")  # test-only peek at the warm pipeline
    assert warm is not None
    unet = warm.pipeline.unet
    adapters = set(getattr(unet, "peft_config", {}) or {})
    return sum(p.numel() for p in unet.parameters()), len(list(unet.modules())), adapters


def test_lora_changes_output_and_weight_zero_does_not(
    tiny_engine: Engine, tiny_sd15_lora: Path
) -> None:
    base = render(tiny_engine)
    full = render(tiny_engine, [{"path": str(tiny_sd15_lora), "weight": 1.0}])
    zero = render(tiny_engine, [{"path": str(tiny_sd15_lora), "weight": 0.0}])
    assert np.abs(full - base).mean() > 1.0
    assert np.array_equal(zero, base)
    assert np.array_equal(render(tiny_engine), base)  # the base model is untouched afterwards


def test_two_adapters_combine(
    tiny_engine: Engine, tiny_sd15_lora: Path, tiny_sd15_lora_b: Path
) -> None:
    a = render(tiny_engine, [{"path": str(tiny_sd15_lora), "weight": 0.7}])
    b = render(tiny_engine, [{"path": str(tiny_sd15_lora_b), "weight": 0.7}])
    both = render(
        tiny_engine,
        [
            {"path": str(tiny_sd15_lora), "weight": 0.7},
            {"path": str(tiny_sd15_lora_b), "weight": 0.7},
        ],
    )
    assert not np.array_equal(both, a)
    assert not np.array_equal(both, b)
    # Weight 0 on the second adapter leaves only the first one's effect.
    only_a = render(
        tiny_engine,
        [
            {"path": str(tiny_sd15_lora), "weight": 0.7},
            {"path": str(tiny_sd15_lora_b), "weight": 0.0},
        ],
    )
    assert np.array_equal(only_a, a)


def test_lora_by_id_and_metadata(tiny_engine: Engine) -> None:
    result = tiny_engine.generate({**PROMPT, "loras": [{"id": "tiny-sd15-a", "weight": 0.5}]})
    (applied,) = result.images[0].parameters.loras
    assert applied.name == "tiny-sd15-a"
    assert applied.weight == 0.5
    assert applied.sha256 is not None and len(applied.sha256) == 64


def test_weight_above_one_warns(
    tiny_engine: Engine, tiny_sd15_lora: Path, caplog: pytest.LogCaptureFixture
) -> None:
    render(tiny_engine, [{"path": str(tiny_sd15_lora), "weight": 1.5}])
    assert any("overcooks" in r.getMessage() for r in caplog.records)


def test_sdxl_lora_on_sd15_names_both_architectures(
    tiny_engine: Engine, tiny_sdxl_lora: Path
) -> None:
    with pytest.raises(IncompatibleLora) as caught:
        render(tiny_engine, [{"path": str(tiny_sdxl_lora)}])
    error = caught.value
    assert "SDXL" in error.message and "SD 1.5" in error.message
    assert (error.lora_family, error.model_family, error.field) == ("sdxl", "sd15", "loras[0]")
    assert "size mismatch" not in error.message and "torch" not in error.message


def test_headerless_sdxl_lora_is_caught_by_shape_check(
    tiny_engine: Engine, tiny_sdxl_path: Path, tmp_path: Path
) -> None:
    bare = build_tiny_lora(
        tiny_sdxl_path, tmp_path / "bare-sdxl.safetensors", family="sdxl", with_architecture=False
    )
    base = render(tiny_engine)
    with pytest.raises(IncompatibleLora) as caught:
        render(tiny_engine, [{"path": str(bare)}])
    message = caught.value.message
    assert "SD 1.5" in message and "does not fit" in message and "width" in message
    assert np.array_equal(render(tiny_engine), base)  # nothing was left injected


def test_inconsistent_rank_is_reported(
    tiny_engine: Engine, tiny_sd15_lora: Path, tmp_path: Path
) -> None:
    with safe_open(str(tiny_sd15_lora), framework="pt") as handle:
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
    key = next(k for k in tensors if k.endswith("lora_B.weight"))
    tensors[key] = torch.zeros(tensors[key].shape[0], 7)
    broken = tmp_path / "broken.safetensors"
    save_file(tensors, str(broken))
    with pytest.raises(InvalidInput, match="ranks differ"):
        render(tiny_engine, [{"path": str(broken)}])


def test_repeated_lora_jobs_leave_no_trace(
    tiny_engine: Engine, tiny_sd15_lora: Path, tiny_sd15_lora_b: Path
) -> None:
    base = render(tiny_engine)
    params, modules, adapters = unet_state(tiny_engine)
    assert adapters == set()
    loras = [
        {"path": str(tiny_sd15_lora), "weight": 0.8},
        {"path": str(tiny_sd15_lora_b), "weight": 0.4},
    ]
    render(tiny_engine, loras)  # warm-up: first LoRA job allocates PEFT/diffusers caches
    gc.collect()
    rss_before = psutil.Process().memory_info().rss
    for _ in range(20):
        render(tiny_engine, loras)
    gc.collect()
    growth = psutil.Process().memory_info().rss - rss_before
    assert unet_state(tiny_engine) == (params, modules, set())
    # The tiny LoRAs are ~100 KB each; leaking 20 jobs of adapters would show, allocator
    # noise stays far below this bound.
    assert growth < 30 * 1024 * 1024, f"RSS grew by {growth / 2**20:.1f} MiB over 20 LoRA jobs"
    assert np.array_equal(render(tiny_engine), base)


def test_sdxl_lora_applies_to_sdxl(tiny_engine: Engine, tiny_sdxl_lora: Path) -> None:
    """On an AVX-512 CPU this failed by one level in some pixels while models loaded with
    trainable weights: the LoRA froze them, and frozen weights take other kernels."""
    base = render(tiny_engine, model="tiny-sdxl")
    styled = render(tiny_engine, [{"id": "tiny-sdxl-a"}], model="tiny-sdxl")
    assert np.abs(styled - base).mean() > 1.0
    assert np.array_equal(render(tiny_engine, model="tiny-sdxl"), base)


def test_loaded_models_are_frozen_before_any_lora(tiny_engine: Engine) -> None:
    """Every weight is loaded as inference has it, so a LoRA job changes nothing after it."""
    render(tiny_engine, model="tiny-sdxl")
    warm = tiny_engine._cache.peek("tiny-sdxl")  # test-only peek at the warm pipeline
    assert warm is not None
    modules = [m for m in warm.pipeline.components.values() if isinstance(m, torch.nn.Module)]
    assert {"unet", "vae", "text_encoder", "text_encoder_2"} <= {
        name for name, m in warm.pipeline.components.items() if m in modules
    }
    assert not any(p.requires_grad for m in modules for p in m.parameters())


def test_sd3_lora_applies_to_sd3(tiny_engine: Engine, tiny_sd3_path: Path, tmp_path: Path) -> None:
    lora = build_tiny_lora(tiny_sd3_path, tmp_path / "sd3.safetensors", family="sd3")
    base = render(tiny_engine, model="tiny-sd3")
    styled = render(tiny_engine, [{"path": str(lora), "weight": 1.0}], model="tiny-sd3")
    assert np.abs(styled - base).mean() > 1.0
    assert np.array_equal(render(tiny_engine, model="tiny-sd3"), base)
    with pytest.raises(IncompatibleLora, match="SD3"):
        render(tiny_engine, [{"path": str(lora)}])  # on the SD 1.5 model


def test_zimage_lora_applies_to_zimage(
    tiny_engine: Engine, tiny_zimage_path: Path, tmp_path: Path
) -> None:
    lora = build_tiny_lora(tiny_zimage_path, tmp_path / "z.safetensors", family="zimage")
    base = render(tiny_engine, model="tiny-zimage")
    styled = render(tiny_engine, [{"path": str(lora), "weight": 1.0}], model="tiny-zimage")
    assert np.abs(styled - base).mean() > 1.0
    assert np.array_equal(render(tiny_engine, model="tiny-zimage"), base)
