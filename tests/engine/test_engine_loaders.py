"""Loaders: sources, offline errors, memory options, and concurrent use of one engine."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch

from imajin.engine import Engine, ModelLoadError, ModelSpec
from imajin.engine.families import FAMILIES
from imajin.engine.loaders import LOADERS, StableDiffusionXLLoader, pipeline_nbytes


def spec_for(source: str, **changes: Any) -> ModelSpec:
    fields: dict[str, Any] = {
        "id": "x",
        "name": "X",
        "style": "photorealistic",
        "family": "sdxl",
        "source": source,
        "native": 1024,
        "scheduler": "euler",
        "steps": 20,
        "guidance": 5.0,
    }
    return ModelSpec(**{**fields, **changes})


class RecordingPipeline:
    calls: ClassVar[list[tuple[str, str, dict[str, Any]]]] = []

    components: ClassVar[dict[str, Any]] = {}  # nothing to freeze

    @classmethod
    def from_pretrained(cls, location: str, **kwargs: Any) -> type[RecordingPipeline]:
        cls.calls.append(("from_pretrained", location, kwargs))
        return cls

    @classmethod
    def from_single_file(cls, location: str, **kwargs: Any) -> type[RecordingPipeline]:
        cls.calls.append(("from_single_file", location, kwargs))
        return cls


class RecordingLoader(StableDiffusionXLLoader):
    @property
    def pipeline_class(self) -> Any:
        return RecordingPipeline


@pytest.mark.parametrize(
    ("source", "method", "location"),
    [
        ("owner/repo", "from_pretrained", "owner/repo"),
        (
            "owner/repo/sub/model.safetensors",
            "from_single_file",
            "https://huggingface.co/owner/repo/blob/main/sub/model.safetensors",
        ),
    ],
)
def test_sources_map_to_the_right_diffusers_call(source: str, method: str, location: str) -> None:
    RecordingPipeline.calls.clear()
    spec = spec_for(source, config="stabilityai/stable-diffusion-xl-base-1.0", variant="fp16")
    RecordingLoader(FAMILIES["sdxl"]).load(
        spec, dtype=torch.float16, offline=True, cache_dir=Path("/cache")
    )
    ((called, where, kwargs),) = RecordingPipeline.calls
    assert (called, where) == (method, location)
    assert kwargs["local_files_only"] is True
    assert kwargs["cache_dir"] == "/cache"
    assert kwargs["add_watermarker"] is False
    assert torch.float16 in kwargs.values()
    if method == "from_single_file":
        assert kwargs["config"] == "stabilityai/stable-diffusion-xl-base-1.0"
    else:
        assert kwargs["variant"] == "fp16"


def test_uncached_hub_model_offline_says_how_to_fix(tmp_path: Path) -> None:
    spec = spec_for("imajin-tests/not-a-real-model")
    with pytest.raises(ModelLoadError) as caught:
        LOADERS["sdxl"].load(spec, dtype=torch.float32, offline=True, cache_dir=tmp_path)
    message = caught.value.message
    assert "not in the local Hugging Face cache" in message
    assert "engine.offline" in message
    assert f"imajin models pull {spec.id}" in message


def test_missing_local_folder_is_reported(tmp_path: Path) -> None:
    spec = spec_for(str(tmp_path / "gone"))
    with pytest.raises(ModelLoadError, match="does not exist"):
        LOADERS["sdxl"].load(spec, dtype=torch.float32, offline=True, cache_dir=None)


def test_memory_options_still_generate(make_engine: Callable[..., Any]) -> None:
    engine, _ = make_engine(attention_slicing=True, vae_slicing=True, vae_tiling=True)
    plain, _ = make_engine()
    request = {"prompt": "a fox", "model": "tiny-sd15", "seed": 4}
    sliced = np.asarray(engine.generate(request).images[0].image).astype(int)
    base = np.asarray(plain.generate(request).images[0].image).astype(int)
    assert sliced.shape == base.shape
    assert np.abs(sliced - base).max() <= 2  # slicing reorders float sums only


def test_pipeline_bytes_are_measured(tiny_engine: Engine) -> None:
    tiny_engine.load("tiny-sd15")
    warm = tiny_engine._cache.peek("tiny-sd15")
    assert warm is not None
    assert warm.nbytes == pipeline_nbytes(warm.pipeline) > 1_000_000


def test_concurrent_jobs_on_one_engine_are_deterministic(
    tiny_engine: Engine, tiny_sd15_lora: Path
) -> None:
    requests = [
        {"prompt": "a fox", "model": "tiny-sd15", "seed": 1},
        {
            "prompt": "a fox",
            "model": "tiny-sd15",
            "seed": 1,
            "loras": [{"path": str(tiny_sd15_lora)}],
        },
        {"prompt": "a fox", "model": "tiny-sdxl", "seed": 1},
    ] * 2
    expected = [np.asarray(tiny_engine.generate(r).images[0].image) for r in requests]
    results: dict[int, np.ndarray] = {}

    def work(index: int) -> None:
        results[index] = np.asarray(tiny_engine.generate(requests[index]).images[0].image)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.array_equal(results[i], expected[i]) for i in range(len(requests)))
