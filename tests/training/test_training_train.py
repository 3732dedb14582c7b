"""LoRA training on the tiny models: the file loads through the engine, resumes, cancels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from imajin.config.training import TrainingSettings
from imajin.engine import Engine, IncompatibleLora
from imajin.errors import InvalidInput
from imajin.testing import build_tiny_sd15
from imajin.training import (
    CheckpointMismatch,
    TrainingCancelled,
    UnsupportedBase,
    checkpoint_folder,
    train_lora,
)

PROMPT = {"prompt": "a red circle on a soft gradient", "seed": 21}


def render(engine: Engine, model: str, lora: Path | None = None) -> np.ndarray:
    loras = [{"path": str(lora), "weight": 1.0}] if lora is not None else []
    result = engine.generate({**PROMPT, "model": model, "loras": loras})
    return np.asarray(result.images[0].image).astype(np.int16)


def steps_on_disk(output: Path) -> list[str]:
    return sorted(p.name for p in checkpoint_folder(output).iterdir())


def test_trained_lora_loads_through_the_engine_and_changes_its_output(
    tiny_engine: Engine, training_dir: Path, quick_settings: TrainingSettings, tmp_path: Path
) -> None:
    output = tmp_path / "loras" / "shapes.safetensors"
    seen: list[tuple[str, int, int]] = []
    result = train_lora(
        data_dir=training_dir,
        base=tiny_engine.registry.resolve("tiny-sd15", allow_paths=True),
        output=output,
        settings=quick_settings,
        progress=lambda update: seen.append((update.phase, update.step, update.total)),
    )
    assert (result.path, result.family, result.steps, result.images) == (output, "sd15", 6, 5)
    assert result.resumed_from == 0 and result.final_loss is not None
    assert [s for s in seen if s[0] == "training"] == [("training", i, 6) for i in range(1, 7)]
    assert ("preparing", 5, 5) in seen
    assert steps_on_disk(output) == ["step-0000003", "step-0000006"]
    assert not [p for p in output.parent.iterdir() if p.name.startswith(".")]  # no temp files

    with safe_open(str(output), framework="pt") as handle:
        header = handle.metadata()
        keys = list(handle.keys())
    assert header["modelspec.architecture"] == "stable-diffusion-v1/lora"
    adapter = json.loads(header["lora_adapter_metadata"])
    assert (adapter["unet.r"], adapter["unet.lora_alpha"]) == (4, 8)  # alpha survives the file
    assert json.loads(header["imajin.training"])["steps"] == 6
    assert all(key.startswith("unet.") and ".lora_" in key for key in keys)

    base = render(tiny_engine, "tiny-sd15")
    with_lora = render(tiny_engine, "tiny-sd15", output)
    assert np.abs(with_lora - base).mean() > 0.5
    assert np.array_equal(render(tiny_engine, "tiny-sd15"), base)  # base untouched afterwards


def test_resumed_run_ends_where_an_uninterrupted_run_does(
    tiny_sd15_path: Path, training_dir: Path, quick_settings: TrainingSettings, tmp_path: Path
) -> None:
    # Dropout, batches and accumulation put every random stream and the data order to work.
    settings = quick_settings.model_copy(
        update={"dropout": 0.1, "batch_size": 2, "gradient_accumulation": 2}
    )
    whole = tmp_path / "whole.safetensors"
    train_lora(data_dir=training_dir, base=tiny_sd15_path, output=whole, settings=settings)

    parts = tmp_path / "parts.safetensors"
    first = settings.model_copy(update={"max_steps": 3})
    train_lora(data_dir=training_dir, base=tiny_sd15_path, output=parts, settings=first)
    assert steps_on_disk(parts) == ["step-0000003"]
    resumed = train_lora(
        data_dir=training_dir, base=tiny_sd15_path, output=parts, settings=settings
    )
    assert resumed.resumed_from == 3

    expected, actual = load_file(str(whole)), load_file(str(parts))
    assert expected.keys() == actual.keys()
    for key, tensor in expected.items():
        torch.testing.assert_close(actual[key], tensor)
    # Training changed the LoRA: its up matrices start at zero.
    assert any(t.abs().sum() > 0 for k, t in actual.items() if ".lora_B." in k)

    # Nothing left to train: the file is written again from the last checkpoint.
    again = train_lora(data_dir=training_dir, base=tiny_sd15_path, output=parts, settings=settings)
    assert (again.resumed_from, again.final_loss, again.seconds_per_step) == (6, None, None)
    torch.testing.assert_close(load_file(str(parts)), expected)


def test_resume_refuses_a_checkpoint_of_other_settings_or_data(
    tiny_sd15_path: Path, training_dir: Path, quick_settings: TrainingSettings, tmp_path: Path
) -> None:
    output = tmp_path / "style.safetensors"
    run: dict[str, Any] = {"data_dir": training_dir, "base": tiny_sd15_path, "output": output}
    train_lora(**run, settings=quick_settings.model_copy(update={"max_steps": 3}))

    with pytest.raises(CheckpointMismatch, match=r"rank: 4 then, 8 now.*--no-resume"):
        train_lora(**run, settings=quick_settings.model_copy(update={"rank": 8}))
    with pytest.raises(CheckpointMismatch, match="past max_steps 2"):
        train_lora(**run, settings=quick_settings.model_copy(update={"max_steps": 2}))
    (training_dir / "item00.txt").write_text("a different caption")
    with pytest.raises(CheckpointMismatch, match="images or captions changed"):
        train_lora(**run, settings=quick_settings)

    fresh = train_lora(**run, settings=quick_settings, resume=False)
    assert fresh.resumed_from == 0
    assert steps_on_disk(output) == ["step-0000003", "step-0000006"]


def test_cancel_stops_between_steps_and_writes_no_lora(
    tiny_sd15_path: Path, training_dir: Path, quick_settings: TrainingSettings, tmp_path: Path
) -> None:
    output = tmp_path / "cancelled.safetensors"
    settings = quick_settings.model_copy(update={"save_every": 1})
    polls: list[int] = []

    def cancel() -> bool:
        polls.append(1)
        return len(polls) > 2  # polled before each step: two steps run

    with pytest.raises(TrainingCancelled) as raised:
        train_lora(
            data_dir=training_dir,
            base=tiny_sd15_path,
            output=output,
            settings=settings,
            cancel=cancel,
        )
    assert (raised.value.step, raised.value.total) == (2, 6)
    assert not output.exists()
    assert steps_on_disk(output) == ["step-0000001", "step-0000002"]  # keep_checkpoints: 2
    # The checkpoints a cancelled run leaves are what the next run resumes from.
    result = train_lora(
        data_dir=training_dir, base=tiny_sd15_path, output=output, settings=settings
    )
    assert result.resumed_from == 2 and output.is_file()


def test_unsupported_bases_and_bad_options_fail_before_loading(
    tiny_sd3_path: Path,
    tiny_sd15_path: Path,
    training_dir: Path,
    quick_settings: TrainingSettings,
    tmp_path: Path,
) -> None:
    output = tmp_path / "x.safetensors"
    with pytest.raises(UnsupportedBase, match=r"supports SD 1\.5 and SDXL.*is SD3"):
        train_lora(
            data_dir=training_dir, base=tiny_sd3_path, output=output, settings=quick_settings
        )
    with pytest.raises(InvalidInput, match=r"\.safetensors"):
        train_lora(
            data_dir=training_dir,
            base=tiny_sd15_path,
            output=tmp_path / "x.pt",
            settings=quick_settings,
        )
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInput, match="needs a CUDA GPU"):
            train_lora(
                data_dir=training_dir,
                base=tiny_sd15_path,
                output=output,
                settings=quick_settings.model_copy(update={"mixed_precision": "fp16"}),
            )
    assert not output.exists() and not checkpoint_folder(output).exists()


def test_v_prediction_models_learn_the_velocity(
    training_dir: Path, quick_settings: TrainingSettings, tmp_path: Path, monkeypatch: Any
) -> None:
    base = build_tiny_sd15(tmp_path / "tiny-vpred", prediction="v_prediction")
    calls: list[int] = []
    original = diffusers.DDPMScheduler.get_velocity

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(diffusers.DDPMScheduler, "get_velocity", spy)
    settings = quick_settings.model_copy(update={"max_steps": 2})
    train_lora(
        data_dir=training_dir,
        base=base,
        output=tmp_path / "v.safetensors",
        settings=settings,
    )
    assert len(calls) == 2


def test_sdxl_lora_trains_loads_and_is_refused_by_sd15(
    tiny_engine: Engine, training_dir: Path, quick_settings: TrainingSettings, tmp_path: Path
) -> None:
    output = tmp_path / "xl.safetensors"
    # resolution unset: the base's native side (128 px for the tiny SDXL).
    settings = quick_settings.model_copy(update={"max_steps": 3, "resolution": None})
    result = train_lora(
        data_dir=training_dir,
        base=tiny_engine.registry.resolve("tiny-sdxl", allow_paths=True),
        output=output,
        settings=settings,
    )
    assert result.family == "sdxl"
    with safe_open(str(output), framework="pt") as handle:
        assert handle.metadata()["modelspec.architecture"].startswith("stable-diffusion-xl")
        assert json.loads(handle.metadata()["imajin.training"])["resolution"] == 128
    base = render(tiny_engine, "tiny-sdxl")
    assert not np.array_equal(render(tiny_engine, "tiny-sdxl", output), base)
    with pytest.raises(IncompatibleLora, match="made for SDXL"):
        render(tiny_engine, "tiny-sd15", output)
