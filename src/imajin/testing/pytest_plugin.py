"""Pytest fixtures that build the tiny models once per test session.

Register in the top-level ``tests/conftest.py``::

    pytest_plugins = ["imajin.testing.pytest_plugin"]

Importing this module switches the Hugging Face hub off (``HF_HUB_OFFLINE=1``)
unless the environment already says otherwise, so no test downloads by accident.

Tests that use a tiny model run torch on one CPU thread (``IMAJIN_TEST_TORCH_THREADS``
changes it): tiny tensors gain nothing from more, and on a shared machine two
threads spin-waiting on a busy core made the same test ten times slower.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from imajin import testing  # lazy: torch and diffusers load when a fixture first builds

if TYPE_CHECKING:
    from imajin.engine import Engine, EngineSettings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


@pytest.fixture(scope="session")
def tiny_torch_threads() -> int:
    """Set torch's intra-op thread count for the session (1 unless overridden)."""
    import torch  # noqa: PLC0415 - only sessions that use tiny models pay for torch

    threads = int(os.environ.get("IMAJIN_TEST_TORCH_THREADS", "1"))
    torch.set_num_threads(threads)
    return threads


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory: pytest.TempPathFactory, tiny_torch_threads: int) -> Path:
    """A session-wide folder holding every tiny model and LoRA the fixtures build."""
    return tmp_path_factory.mktemp("tiny-models")


@pytest.fixture(scope="session")
def tiny_sd15_path(tiny_models_dir: Path) -> Path:
    """Folder of a tiny SD 1.5 pipeline (native 64 px, ``imajin.json`` card included)."""
    return testing.build_tiny_sd15(tiny_models_dir / "tiny-sd15")


@pytest.fixture(scope="session")
def tiny_sdxl_path(tiny_models_dir: Path) -> Path:
    """Folder of a tiny SDXL pipeline (native 128 px)."""
    return testing.build_tiny_sdxl(tiny_models_dir / "tiny-sdxl")


@pytest.fixture(scope="session")
def tiny_sd3_path(tiny_models_dir: Path) -> Path:
    """Folder of a tiny SD3 pipeline (native 64 px, three text encoders)."""
    return testing.build_tiny_sd3(tiny_models_dir / "tiny-sd3")


@pytest.fixture(scope="session")
def tiny_zimage_path(tiny_models_dir: Path) -> Path:
    """Folder of a tiny Z-Image pipeline (native 64 px, Qwen3 text encoder, guidance 0)."""
    return testing.build_tiny_zimage(tiny_models_dir / "tiny-zimage")


@pytest.fixture(scope="session")
def tiny_qwen2_vl_path(tiny_models_dir: Path) -> Path:
    """Folder of a tiny random-weight Qwen2-VL (vision-language model, ~110k parameters)."""
    return testing.build_tiny_qwen2_vl(tiny_models_dir / "tiny-qwen2-vl")


@pytest.fixture(scope="session")
def tiny_sd15_lora(tiny_models_dir: Path, tiny_sd15_path: Path) -> Path:
    """A rank-4 random LoRA file for the tiny SD 1.5 (seed 1)."""
    out = tiny_models_dir / "loras" / "tiny-sd15-a.safetensors"
    return testing.build_tiny_lora(tiny_sd15_path, out, family="sd15", seed=1)


@pytest.fixture(scope="session")
def tiny_sd15_lora_b(tiny_models_dir: Path, tiny_sd15_path: Path) -> Path:
    """A second, different LoRA for the tiny SD 1.5 (seed 2), for stacking tests."""
    out = tiny_models_dir / "loras" / "tiny-sd15-b.safetensors"
    return testing.build_tiny_lora(tiny_sd15_path, out, family="sd15", seed=2)


@pytest.fixture(scope="session")
def tiny_sdxl_lora(tiny_models_dir: Path, tiny_sdxl_path: Path) -> Path:
    """A rank-4 random LoRA file for the tiny SDXL (seed 1)."""
    out = tiny_models_dir / "loras" / "tiny-sdxl-a.safetensors"
    return testing.build_tiny_lora(tiny_sdxl_path, out, family="sdxl", seed=1)


@pytest.fixture(scope="session")
def tiny_data_dir(  # noqa: PLR0917 - pytest passes fixtures as parameters
    tmp_path_factory: pytest.TempPathFactory,
    tiny_sd15_path: Path,
    tiny_sdxl_path: Path,
    tiny_sd3_path: Path,
    tiny_zimage_path: Path,
    tiny_sd15_lora: Path,
    tiny_sd15_lora_b: Path,
    tiny_sdxl_lora: Path,
) -> Path:
    """A data directory for engine tests.

    Its ``models/manifest.yaml`` lists ``tiny-sd15``, ``tiny-sdxl`` (style anime),
    ``tiny-sd3`` and ``tiny-zimage``; its ``models/loras`` holds ``tiny-sd15-a``,
    ``tiny-sd15-b`` and ``tiny-sdxl-a`` (usable as LoRA ids).
    """
    from imajin.testing.manifest import (  # noqa: PLC0415 - keeps plugin import light
        TINY_MODEL_IDS,
        install_loras,
        write_tiny_manifest,
    )

    data_dir = tmp_path_factory.mktemp("tiny-data")
    paths = {
        "sd15": tiny_sd15_path,
        "sdxl": tiny_sdxl_path,
        "sd3": tiny_sd3_path,
        "zimage": tiny_zimage_path,
    }
    write_tiny_manifest(
        data_dir,
        {TINY_MODEL_IDS[f]: p for f, p in paths.items()},
        overrides={"tiny-sdxl": {"style": "anime", "name": "Tiny SDXL (anime default)"}},
    )
    install_loras(
        data_dir,
        {
            "tiny-sd15-a": tiny_sd15_lora,
            "tiny-sd15-b": tiny_sd15_lora_b,
            "tiny-sdxl-a": tiny_sdxl_lora,
        },
    )
    return data_dir


@pytest.fixture(scope="session")
def tiny_engine_settings() -> EngineSettings:
    """Engine settings whose style defaults are the tiny models (photorealistic → tiny-sd15,
    anime → tiny-sdxl), on the CPU."""
    from imajin.engine import EngineSettings  # noqa: PLC0415
    from imajin.testing.manifest import TINY_STYLE_DEFAULTS  # noqa: PLC0415

    return EngineSettings.model_validate({"defaults": TINY_STYLE_DEFAULTS, "device": "cpu"})


@pytest.fixture(scope="session")
def tiny_engine(tiny_data_dir: Path, tiny_engine_settings: EngineSettings) -> Engine:
    """One engine for the session over :func:`tiny_data_dir`; its pipelines stay warm."""
    from imajin.engine import build_engine  # noqa: PLC0415

    return build_engine(tiny_engine_settings, data_dir=tiny_data_dir)
