"""Keep loaded pipelines warm, evicting the least recently used beyond a memory budget.

The budget is per device: several GPUs each hold their own set. A pipeline in
use (its lock held) is never evicted; one larger than the whole budget is kept
alone, with a warning, rather than refused.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from imajin.engine.devices import release_memory
from imajin.engine.spec import ModelSpec

logger = logging.getLogger(__name__)


@dataclass
class WarmPipeline:
    """A loaded pipeline and what the engine needs to know about it.

    Attributes:
        spec: The model it was loaded for.
        pipeline: The diffusers pipeline.
        device: Where it runs.
        dtype: Its weights' dtype.
        nbytes: Bytes of weights and buffers (what counts against the budget).
        base_scheduler: The scheduler it was loaded with; jobs build theirs from its config.
        lock: Held while a job uses the pipeline (diffusers pipelines are not thread-safe).
        schedulers: Samplers built for it, by name; reused under ``lock`` (each call's
            ``set_timesteps`` resets a scheduler's state), which saves ~1 ms a job.
    """

    spec: ModelSpec
    pipeline: Any
    device: torch.device
    dtype: torch.dtype
    nbytes: int
    base_scheduler: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    schedulers: dict[str, Any] = field(default_factory=dict)


class WarmCache:
    """Least-recently-used cache of :class:`WarmPipeline` bounded per device by bytes."""

    def __init__(self, *, budget_bytes: Callable[[torch.device], int | None]) -> None:
        self._budget_bytes = budget_bytes
        self._entries: OrderedDict[str, WarmPipeline] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def get(self, model_id: str) -> WarmPipeline | None:
        """The warm pipeline of ``model_id`` (marked as just used), or None."""
        with self._lock:
            entry = self._entries.get(model_id)
            if entry is not None:
                self._entries.move_to_end(model_id)
            return entry

    def peek(self, model_id: str) -> WarmPipeline | None:
        """The warm pipeline of ``model_id`` without marking it used, or None."""
        with self._lock:
            return self._entries.get(model_id)

    def get_or_load(self, model_id: str, load: Callable[[], WarmPipeline]) -> WarmPipeline:
        """The warm pipeline of ``model_id``, calling ``load`` once if it is not warm."""
        entry = self.get(model_id)
        if entry is not None:
            return entry
        with self._lock:
            loading = self._loading.setdefault(model_id, threading.Lock())
        with loading:  # a second caller waits for the first load instead of repeating it
            entry = self.get(model_id)
            if entry is not None:
                return entry
            entry = load()
            with self._lock:
                self._entries[model_id] = entry
                self._evict_over_budget(keep=model_id, device=entry.device)
            return entry

    def loaded(self) -> list[WarmPipeline]:
        """Warm pipelines, least recently used first."""
        with self._lock:
            return list(self._entries.values())

    def used_bytes(self, device: torch.device) -> int:
        """Bytes of warm pipelines on ``device``."""
        with self._lock:
            return sum(e.nbytes for e in self._entries.values() if e.device == device)

    def evict(self, model_id: str) -> bool:
        """Drop ``model_id`` if it is warm and idle; True if it was dropped."""
        with self._lock:
            entry = self._entries.get(model_id)
            if entry is None or not entry.lock.acquire(blocking=False):
                return False
            try:
                del self._entries[model_id]
            finally:
                entry.lock.release()
        _free(entry)
        return True

    def _evict_over_budget(self, *, keep: str, device: torch.device) -> None:
        budget = self._budget_bytes(device)
        if budget is None:
            return
        used = sum(e.nbytes for e in self._entries.values() if e.device == device)
        for model_id in list(self._entries):
            if used <= budget:
                break
            entry = self._entries[model_id]
            if model_id == keep or entry.device != device:
                continue
            if not entry.lock.acquire(blocking=False):
                continue  # in use by a running job; try the next one
            try:
                del self._entries[model_id]
            finally:
                entry.lock.release()
            used -= entry.nbytes
            logger.info("evicted model %s from %s (memory budget)", model_id, device)
            _free(entry)
        if used > budget:
            logger.warning(
                "warm models on %s use %.1f GB, over the %.1f GB budget (a model larger than "
                "the budget, or others in use)",
                device,
                used / 1e9,
                budget / 1e9,
            )


def _free(entry: WarmPipeline) -> None:
    device = entry.device
    entry.pipeline = None
    entry.base_scheduler = None
    entry.schedulers.clear()
    gc.collect()
    release_memory(device)
