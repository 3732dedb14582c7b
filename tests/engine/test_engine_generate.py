"""Generation on the tiny SD 1.5 / SDXL / SD3 pipelines through the registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imajin.engine import Engine, GenerationCancelled, Progress, build_engine
from imajin.engine.families import FAMILIES
from imajin.engine.schedulers import build_scheduler
from imajin.errors import InvalidInput, PolicyViolation
from imajin.safety import LEGAL_SAFETY_TERMS, build_negative_prompt, enforce, split_terms
from imajin.testing import build_tiny_sdxl


def pixels(result: Any, index: int = 0) -> np.ndarray:
    return np.asarray(result.images[index].image)


@pytest.mark.parametrize(("model", "native"), [("tiny-sd15", 64), ("tiny-sdxl", 128)])
def test_manifest_models_generate_deterministically(
    tiny_engine: Engine, model: str, native: int
) -> None:
    first = tiny_engine.generate({"prompt": "a red fox", "model": model, "seed": 7})
    again = tiny_engine.generate({"prompt": "a red fox", "model": model, "seed": 7})
    other = tiny_engine.generate({"prompt": "a red fox", "model": model, "seed": 8})
    assert pixels(first).shape == (native, native, 3)
    assert np.array_equal(pixels(first), pixels(again))
    assert not np.array_equal(pixels(first), pixels(other))
    params = first.images[0].parameters
    assert (params.model, params.seed, params.steps, params.width) == (model, 7, 4, native)
    assert params.model_hash is not None and len(params.model_hash) == 64


@pytest.mark.parametrize(
    "fixture", ["tiny_sd15_path", "tiny_sdxl_path", "tiny_sd3_path", "tiny_zimage_path"]
)
def test_local_paths_generate(
    tiny_engine: Engine, request: pytest.FixtureRequest, fixture: str
) -> None:
    path: Path = request.getfixturevalue(fixture)
    result = tiny_engine.generate({"prompt": "a red fox", "model": str(path), "seed": 1})
    assert result.images[0].parameters.model == str(path.resolve())
    assert result.images[0].image.size[0] == result.model.native


@pytest.mark.parametrize("model", ["tiny-sd3", "tiny-zimage"])
def test_flow_models_run_euler_only(tiny_engine: Engine, model: str) -> None:
    request = {"prompt": "a fox", "model": model, "scheduler": "euler", "seed": 5}
    first = tiny_engine.generate(request)
    assert np.array_equal(pixels(first), pixels(tiny_engine.generate(request)))
    assert first.images[0].parameters.scheduler == "euler"
    with pytest.raises(InvalidInput, match="use one of: euler"):
        tiny_engine.generate({**request, "scheduler": "heun"})


def test_styles_pick_their_default_model(tiny_engine: Engine) -> None:
    assert tiny_engine.generate({"prompt": "x", "seed": 1}).model.id == "tiny-sd15"
    assert (
        tiny_engine.generate({"prompt": "x", "model": "anime", "seed": 1}).model.id == "tiny-sdxl"
    )


def test_size_steps_guidance_and_scheduler_are_applied(tiny_engine: Engine) -> None:
    result = tiny_engine.generate(
        {
            "prompt": "a lighthouse",
            "model": "tiny-sdxl",
            "width": 96,
            "height": 64,
            "steps": 3,
            "guidance": 2.5,
            "scheduler": "ddim",
            "seed": 3,
        }
    )
    params = result.images[0].parameters
    assert result.images[0].image.size == (96, 64)
    assert (params.steps, params.guidance, params.scheduler) == (3, 2.5, "ddim")


@pytest.mark.parametrize("scheduler", ["dpmpp_2m", "dpmpp_2m_karras", "euler", "euler_a", "lcm"])
def test_every_sampler_runs(tiny_engine: Engine, scheduler: str) -> None:
    result = tiny_engine.generate(
        {"prompt": "x", "model": "tiny-sd15", "scheduler": scheduler, "seed": 2}
    )
    assert pixels(result).std() > 0


def test_batch_images_equal_single_images_of_their_seeds(tiny_engine: Engine) -> None:
    batch = tiny_engine.generate({"prompt": "a fox", "seed": 10, "num_images": 2})
    second = tiny_engine.generate({"prompt": "a fox", "seed": 11})
    assert [img.parameters.seed for img in batch.images] == [10, 11]
    assert np.array_equal(pixels(batch, 1), pixels(second))
    assert not np.array_equal(pixels(batch, 0), pixels(batch, 1))


def test_progress_reports_every_step(tiny_engine: Engine) -> None:
    seen: list[Progress] = []
    tiny_engine.generate({"prompt": "a fox", "seed": 1, "num_images": 2}, progress=seen.append)
    assert [(p.step, p.total, p.image) for p in seen] == [
        (1, 8, 0), (2, 8, 0), (3, 8, 0), (4, 8, 0), (5, 8, 1), (6, 8, 1), (7, 8, 1), (8, 8, 1)
    ]  # fmt: skip
    assert seen[-1].fraction == 1.0


def test_cancel_flag_stops_between_steps(tiny_engine: Engine) -> None:
    seen: list[Progress] = []
    with pytest.raises(GenerationCancelled) as caught:
        tiny_engine.generate(
            {"prompt": "a fox", "seed": 1, "num_images": 3},
            progress=seen.append,
            cancel=lambda: len(seen) >= 2,
        )
    assert (caught.value.step, caught.value.total) == (2, 12)
    assert len(seen) == 2  # no step ran after the flag was seen
    # The pipeline is intact afterwards.
    assert tiny_engine.generate({"prompt": "a fox", "seed": 1}).images


def test_cancel_before_start_loads_nothing(make_engine: Callable[..., Any]) -> None:
    engine, _ = make_engine(refuse_loads=True)
    with pytest.raises(GenerationCancelled):
        engine.generate({"prompt": "a fox"}, cancel=lambda: True)


def test_negative_prompt_builder_sees_every_request(
    tiny_data_dir: Path, tiny_engine_settings: Any
) -> None:
    asked: list[tuple[str, str | None]] = []

    def builder(style: str, given: str | None) -> str:
        asked.append((style, given))
        return f"{given or 'blurry'}, {style} artifacts"

    engine = build_engine(
        tiny_engine_settings, data_dir=tiny_data_dir, negative_prompt_builder=builder
    )
    built = engine.generate({"prompt": "a fox", "model": "anime", "seed": 1})
    assert built.images[0].parameters.negative_prompt == "blurry, anime artifacts"
    given = engine.generate({"prompt": "a fox", "negative_prompt": "text", "seed": 1})
    assert given.images[0].parameters.negative_prompt == "text, photorealistic artifacts"
    assert asked == [("anime", None), ("photorealistic", "text")]


def test_safety_layer_legal_terms_and_hard_block(
    tiny_data_dir: Path, tiny_engine_settings: Any
) -> None:
    engine = build_engine(
        tiny_engine_settings,
        data_dir=tiny_data_dir,
        negative_prompt_builder=lambda style, given: build_negative_prompt(style, override=given),
        prompt_guard=lambda text, field: enforce(text, field=field),
    )
    for negative in (None, "", "watermark, text"):
        made = engine.generate({"prompt": "a fox", "negative_prompt": negative, "seed": 1})
        terms = split_terms(made.images[0].parameters.negative_prompt)
        assert set(LEGAL_SAFETY_TERMS) <= set(terms)
    with pytest.raises(PolicyViolation) as caught:
        engine.plan({"prompt": "n u d e  c h i l d", "model": "no-such-model"})
    assert caught.value.field == "prompt"  # blocked before the model is even looked up


def test_warm_cache_reuses_and_evicts(make_engine: Callable[..., Any]) -> None:
    engine, loaders = make_engine(memory_budget_gb=1e-9)  # budget below one tiny model
    engine.generate({"prompt": "x", "model": "tiny-sd15", "seed": 1})
    engine.generate({"prompt": "x", "model": "tiny-sd15", "seed": 2})
    assert loaders["sd15"].loads == 1
    engine.generate({"prompt": "x", "model": "tiny-sdxl", "seed": 1})
    loaded = {s.id: s.loaded for s in engine.list_models()}
    assert loaded["tiny-sdxl"] and not loaded["tiny-sd15"]  # least recently used went
    engine.generate({"prompt": "x", "model": "tiny-sd15", "seed": 1})
    assert loaders["sd15"].loads == 2


def test_generous_budget_keeps_both_warm(make_engine: Callable[..., Any]) -> None:
    engine, loaders = make_engine(memory_budget_gb=4.0)
    for model in ("tiny-sd15", "tiny-sdxl", "tiny-sd15", "tiny-sdxl"):
        engine.generate({"prompt": "x", "model": model, "seed": 1})
    assert (loaders["sd15"].loads, loaders["sdxl"].loads) == (1, 1)
    status = {s.id: s for s in engine.list_models()}
    assert status["tiny-sd15"].loaded and status["tiny-sd15"].device == "cpu"
    assert engine.unload("tiny-sd15") is True
    assert not {s.id: s for s in engine.list_models()}["tiny-sd15"].loaded


def test_v_prediction_configures_the_scheduler(tiny_engine: Engine) -> None:
    base = {
        "num_train_timesteps": 1000,
        "beta_schedule": "scaled_linear",
        "timestep_spacing": "leading",
    }
    for name in ("euler", "euler_a", "dpmpp_2m_karras", "ddim"):
        scheduler = build_scheduler(
            name, base_config=base, family=FAMILIES["sdxl"], prediction="v_prediction"
        )
        assert scheduler.config.prediction_type == "v_prediction"
        assert scheduler.config.rescale_betas_zero_snr is True
        assert scheduler.config.timestep_spacing == "trailing"
    eps = build_scheduler("euler", base_config=base, family=FAMILIES["sdxl"], prediction="epsilon")
    assert eps.config.prediction_type == "epsilon"
    karras = build_scheduler(
        "dpmpp_2m_karras", base_config=base, family=FAMILIES["sd15"], prediction="epsilon"
    )
    assert karras.config.use_karras_sigmas is True


def test_v_prediction_model_generates(tiny_engine: Engine, tmp_path: Path) -> None:
    path = build_tiny_sdxl(tmp_path / "vpred", prediction="v_prediction")
    result = tiny_engine.generate({"prompt": "a fox", "model": str(path), "seed": 1})
    assert result.model.prediction == "v_prediction"
    assert pixels(result).std() > 0
    tiny_engine.unload(str(path))
