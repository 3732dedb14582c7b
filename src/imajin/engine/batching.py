"""Which requests may be denoised together, and how many images one call may hold.

Requests batch when everything a pipeline call shares is equal: model, device, size,
steps, sampler, guidance (and rescale), LoRA set, and whether a negative prompt is
given (SDXL zeroes the negative embedding when there is none, for the whole call).
Prompts, negative prompts and seeds stay per image.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from imajin.engine.devices import device_memory_bytes
from imajin.engine.generate import CancelCheck, ProgressCallback
from imajin.engine.request import GenerationRequest

if TYPE_CHECKING:
    from imajin.engine.engine import GenerationPlan

_GB = 1_000_000_000


@dataclass(frozen=True)
class BatchRequest:
    """One request of a batch, with its own progress callback and cancel flag."""

    request: GenerationRequest | Mapping[str, Any]
    progress: ProgressCallback | None = None
    cancel: CancelCheck | None = None


def batch_key(plan: GenerationPlan) -> Hashable:
    """Equal for plans whose images can share one pipeline call."""
    return (
        plan.spec.id,
        str(plan.device),
        plan.width,
        plan.height,
        plan.steps,
        plan.scheduler,
        plan.guidance,
        plan.spec.guidance_rescale,
        tuple((str(lora.path), lora.weight) for lora in plan.loras),
        bool(plan.negative_prompt),
    )


def default_max_batch(device: torch.device) -> int:
    """1 on CPU/MPS (no throughput to win, more memory); on CUDA by device memory."""
    if device.type != "cuda":
        return 1
    total = device_memory_bytes(device) or 0
    if total >= 40 * _GB:
        return 8
    if total >= 20 * _GB:
        return 4
    return 2


def group_plans(plans: Mapping[int, GenerationPlan]) -> list[list[int]]:
    """Indices of ``plans`` grouped by :func:`batch_key`, in first-seen order."""
    groups: dict[Hashable, list[int]] = {}
    for index, plan in plans.items():
        groups.setdefault(batch_key(plan), []).append(index)
    return list(groups.values())


def chunked(slots: list[tuple[int, int]], size: int) -> list[list[tuple[int, int]]]:
    """``slots`` (request index, image index) cut into calls of at most ``size`` images."""
    return [slots[start : start + size] for start in range(0, len(slots), size)]
