"""Build an :class:`~imajin.engine.engine.Engine` from settings (for the composition root)."""

from __future__ import annotations

from pathlib import Path

import torch

from imajin.config.layout import DataLayout
from imajin.engine.engine import Engine, NegativePromptBuilder, PromptGuard
from imajin.engine.hashing import FileHasher
from imajin.engine.registry import ModelRegistry, build_registry
from imajin.engine.settings import EngineSettings


def lora_search_dirs(settings: EngineSettings, *, data_dir: Path) -> list[Path]:
    """Folders searched for LoRA ids: ``<data>/models/loras``, ``<data>/models``, then extras."""
    return DataLayout(data_dir).lora_dirs(settings.lora_dirs)


def build_engine(
    settings: EngineSettings,
    *,
    data_dir: Path,
    negative_prompt_builder: NegativePromptBuilder | None = None,
    prompt_guard: PromptGuard | None = None,
    registry: ModelRegistry | None = None,
) -> Engine:
    """The engine for ``settings`` and a data directory.

    Reads the shipped model manifest plus ``<data_dir>/models/manifest.yaml``,
    searches LoRAs under ``<data_dir>/models``, and keeps file hashes in
    ``<data_dir>/cache/hashes.json``. No model is loaded here.

    Args:
        settings: The ``engine:`` section of the configuration.
        data_dir: The platform's data directory.
        negative_prompt_builder: (style, given negative) → the negative prompt to use
            (the safety layer's builder: legal-safety terms always appended).
        prompt_guard: (text, field) → raises for blocked prompts (the safety policy).
        registry: An already-built registry (the platform shares one); else built here.

    Raises:
        ConfigError: A manifest is invalid or a style default names an unknown model.
    """
    if settings.cpu_threads is not None:
        torch.set_num_threads(settings.cpu_threads)
    registry = registry or build_registry(settings, data_dir=data_dir)
    return Engine(
        registry=registry,
        settings=settings,
        lora_dirs=lora_search_dirs(settings, data_dir=data_dir),
        hasher=FileHasher(cache_file=DataLayout(data_dir).file_hashes),
        negative_prompt_builder=negative_prompt_builder,
        prompt_guard=prompt_guard,
    )
