"""Pick the device and dtype a model runs on, and how much memory a device has."""

from __future__ import annotations

import logging
import os

import torch

from imajin.engine.families import Family
from imajin.errors import ConfigError

logger = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device(name: str) -> torch.device:
    """The device for a setting value (``auto`` picks CUDA, then MPS, then CPU).

    Raises:
        ConfigError: A CUDA/MPS device was asked for but is not available.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                f"engine.device is {name!r} but no CUDA GPU is available; use auto or cpu",
                field="engine.device",
            )
        index = device.index or 0
        if index >= torch.cuda.device_count():
            raise ConfigError(
                f"engine.device is {name!r} but this machine has "
                f"{torch.cuda.device_count()} GPU(s) (cuda:0 ...)",
                field="engine.device",
            )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(
            f"engine.device is {name!r} but MPS is not available; use auto or cpu",
            field="engine.device",
        )
    return device


def resolve_dtype(name: str, *, device: torch.device, family: Family) -> torch.dtype:
    """The weights dtype: half precision on GPUs (bf16 where fp16 overflows), fp32 on CPU."""
    if name == "auto":
        if device.type == "cuda":
            return _DTYPES[family.cuda_dtype]
        if device.type == "mps":
            return torch.float16
        return torch.float32
    dtype = _DTYPES[name]
    if device.type == "cpu" and dtype is torch.float16:
        # Many CPU kernels have no fp16 path; fp32 is the only dependable choice.
        logger.warning("engine.dtype float16 is not supported on CPU; using float32")
        return torch.float32
    return dtype


def device_memory_bytes(device: torch.device) -> int | None:
    """Total memory of ``device`` (system RAM for CPU/MPS), or None if unknown."""
    if device.type == "cuda":
        return int(torch.cuda.get_device_properties(device.index or 0).total_memory)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def default_budget_bytes(device: torch.device) -> int | None:
    """Warm-cache budget when none is configured: 85% of a GPU, half the RAM otherwise."""
    total = device_memory_bytes(device)
    if total is None:
        return None
    share = 0.85 if device.type == "cuda" else 0.5
    return int(total * share)


def release_memory(device: torch.device) -> None:
    """Give cached allocator blocks back after a model is dropped."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()
