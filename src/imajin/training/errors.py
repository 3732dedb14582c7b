"""Errors LoRA training raises, on top of :mod:`imajin.errors`.

Mistakes the caller can fix (a folder without captions, a base we cannot
train, a checkpoint made with other settings) are also ``InvalidInput`` /
``Conflict``, so the HTTP layer and the job runner treat them as such.
"""

from __future__ import annotations

from imajin.errors import Conflict, ImajinError, InvalidInput


class TrainingError(ImajinError):
    """Base of every error LoRA training raises."""

    code = "training_error"


class TrainingDataError(TrainingError, InvalidInput):
    """The training folder is empty, or an image or caption is missing or unreadable."""

    code = "invalid_training_data"


class UnsupportedBase(TrainingError, InvalidInput):
    """The base model belongs to a family LoRA training does not support."""

    code = "unsupported_base"


class CheckpointMismatch(TrainingError, Conflict):
    """The checkpoint to resume from was made with other settings, data or base model."""

    code = "checkpoint_mismatch"


class TrainingCancelled(TrainingError):
    """The cancel check returned True; training stopped between two steps.

    Attributes:
        step: Optimiser steps finished when the cancel was seen.
        total: Steps the run would have taken.
    """

    code = "cancelled"

    def __init__(self, message: str = "training was cancelled", *, step: int, total: int) -> None:
        super().__init__(message)
        self.step = step
        self.total = total
