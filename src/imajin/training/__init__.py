"""LoRA training (SPEC §5): a folder of captioned images → a LoRA file the engine loads.

Start with :func:`train_lora`; :func:`make_training_handler` runs it as the
``train_lora`` job kind. Training supports SD 1.5 and SDXL base models.

Names are imported lazily: ``from imajin.training import TrainingError``
does not import torch or diffusers; using ``train_lora`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imajin.lazy import lazy_attributes

if TYPE_CHECKING:
    from imajin.training.checkpoints import checkpoint_folder
    from imajin.training.errors import (
        CheckpointMismatch,
        TrainingCancelled,
        TrainingDataError,
        TrainingError,
        UnsupportedBase,
    )
    from imajin.training.handler import (
        JOB_KIND,
        TrainingJobParams,
        make_training_handler,
        training_job,
    )
    from imajin.training.trainer import (
        TrainingProgress,
        TrainingResult,
        train_lora,
    )

_LAZY = {
    "CheckpointMismatch": "imajin.training.errors",
    "JOB_KIND": "imajin.training.handler",
    "TrainingCancelled": "imajin.training.errors",
    "TrainingDataError": "imajin.training.errors",
    "TrainingError": "imajin.training.errors",
    "TrainingJobParams": "imajin.training.handler",
    "TrainingProgress": "imajin.training.trainer",
    "TrainingResult": "imajin.training.trainer",
    "UnsupportedBase": "imajin.training.errors",
    "checkpoint_folder": "imajin.training.checkpoints",
    "make_training_handler": "imajin.training.handler",
    "train_lora": "imajin.training.trainer",
    "training_job": "imajin.training.handler",
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
