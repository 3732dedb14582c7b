"""Engine settings and device/dtype selection."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from imajin.engine import EngineSettings
from imajin.engine.devices import default_budget_bytes, resolve_device, resolve_dtype
from imajin.engine.families import FAMILIES
from imajin.errors import ConfigError


def test_defaults() -> None:
    settings = EngineSettings()
    assert settings.defaults.photorealistic == "juggernaut-xi-v11"
    assert settings.defaults.anime == "animagine-xl-4.0-opt"
    assert (settings.device, settings.dtype, settings.cpu_offload) == ("auto", "auto", "none")
    assert settings.offline is True
    assert settings.embed_metadata is True
    assert settings.write_sidecar is False
    assert settings.memory_budget_gb is None


def test_unknown_keys_and_bad_devices_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        EngineSettings.model_validate({"devcie": "cpu"})
    with pytest.raises(ValidationError, match="cuda:N"):
        EngineSettings(device="gpu0")
    with pytest.raises(ValidationError, match="cuda:N"):
        EngineSettings(devices={"anime-model": "cuda1"})
    assert EngineSettings(device="cuda:1", devices={"x": "cpu"}).device == "cuda:1"


@pytest.mark.skipif(
    torch.cuda.is_available() or torch.backends.mps.is_available(),
    reason="checks the CPU choice; this machine has an accelerator",
)
def test_auto_device_and_dtype_on_cpu() -> None:
    device = resolve_device("auto")
    assert device.type == "cpu"
    assert resolve_dtype("auto", device=device, family=FAMILIES["sdxl"]) is torch.float32
    assert resolve_dtype("float16", device=device, family=FAMILIES["sdxl"]) is torch.float32
    assert resolve_dtype("bfloat16", device=device, family=FAMILIES["sd3"]) is torch.bfloat16
    budget = default_budget_bytes(device)
    assert budget is None or budget > 0


def test_half_precision_choice_on_cuda_is_per_family() -> None:
    cuda = torch.device("cuda")
    assert resolve_dtype("auto", device=cuda, family=FAMILIES["sdxl"]) is torch.float16
    assert resolve_dtype("auto", device=cuda, family=FAMILIES["sd3"]) is torch.bfloat16
    assert resolve_dtype("auto", device=cuda, family=FAMILIES["zimage"]) is torch.bfloat16


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_missing_gpu_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_device("cuda:1")
    assert caught.value.field == "engine.device"
