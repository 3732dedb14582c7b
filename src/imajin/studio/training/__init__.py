"""LoRA training (SPEC §5): a folder of captioned images → a LoRA file the engine loads.

Start with :func:`train_lora`; :func:`make_training_handler` runs it as the
``train_lora`` job kind. Training supports SD 1.5 and SDXL base models.

Names are imported lazily: ``from imajin.studio.training import TrainingError``
does not import torch or diffusers; using ``train_lora`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imajin.lazy import lazy_attributes

if TYPE_CHECKING:
    from imajin.studio.training.checkpoints import checkpoint_folder
    from imajin.studio.training.errors import (
        CheckpointMismatch,
        TrainingCancelled,
        TrainingDataError,
        TrainingError,
        UnsupportedBase,
    )
    from imajin.studio.training.handler import (
        JOB_KIND,
        TrainingJobParams,
        make_training_handler,
        training_job,
    )
    from imajin.studio.training.trainer import (
        TrainingProgress,
        TrainingResult,
        train_lora,
    )

_LAZY = {
    "CheckpointMismatch": "imajin.studio.training.errors",
    "JOB_KIND": "imajin.studio.training.handler",
    "TrainingCancelled": "imajin.studio.training.errors",
    "TrainingDataError": "imajin.studio.training.errors",
    "TrainingError": "imajin.studio.training.errors",
    "TrainingJobParams": "imajin.studio.training.handler",
    "TrainingProgress": "imajin.studio.training.trainer",
    "TrainingResult": "imajin.studio.training.trainer",
    "UnsupportedBase": "imajin.studio.training.errors",
    "checkpoint_folder": "imajin.studio.training.checkpoints",
    "make_training_handler": "imajin.studio.training.handler",
    "train_lora": "imajin.studio.training.trainer",
    "training_job": "imajin.studio.training.handler",
}

__all__ = [
    "JOB_KIND",
    "CheckpointMismatch",
    "TrainingCancelled",
    "TrainingDataError",
    "TrainingError",
    "TrainingJobParams",
    "TrainingProgress",
    "TrainingResult",
    "UnsupportedBase",
    "checkpoint_folder",
    "make_training_handler",
    "train_lora",
    "training_job",
]


__getattr__ = lazy_attributes(__name__, _LAZY)
