"""The training endpoints: folders, defaults, and launching a run (a ``train_lora`` job)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imajin.client.call import Call, body, json_as, validated
from imajin.contracts.jobs import JobPublic
from imajin.contracts.training import TrainingCreate, TrainingDefaults, TrainingFolder

__all__ = ["list_training_folders", "start_training", "training_defaults"]


def list_training_folders() -> Call[list[TrainingFolder]]:
    """``GET /api/training/folders``: folders of images under the training area."""
    return Call("GET", "/api/training/folders", json_as(list[TrainingFolder]))


def training_defaults() -> Call[TrainingDefaults]:
    """``GET /api/training/defaults``: configured settings and the bases training accepts."""
    return Call("GET", "/api/training/defaults", json_as(TrainingDefaults))


def start_training(request: TrainingCreate | Mapping[str, Any]) -> Call[JobPublic]:
    """``POST /api/training``: queue a run; returns its job (watch its events for the loss)."""
    payload = body(validated(TrainingCreate, request))
    return Call("POST", "/api/training", json_as(JobPublic), json=payload, ok=(202,))
