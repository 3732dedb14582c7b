"""LoRA training (``/api/training``): folders in the training area, defaults, launching a run.

A run is a ``train_lora`` job: watch it with ``/api/jobs/{id}/events`` (each
``JOB_PROGRESS`` event carries ``loss`` and ``phase``); the LoRA then appears in
``GET /api/loras`` under the output name.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from imajin.api.auth import GenerateAccess, ReadAccess
from imajin.api.deps import TrainingDep
from imajin.api.openapi import error_responses
from imajin.contracts.jobs import JobPublic
from imajin.contracts.training import TrainingCreate, TrainingDefaults, TrainingFolder
from imajin.jobs.models import public_job

router = APIRouter(prefix="/api/training", tags=["training"])


@router.get(
    "/folders",
    response_model=list[TrainingFolder],
    dependencies=[ReadAccess],
    summary="Folders of images under the training area (never outside it)",
)
def list_folders(training: TrainingDep) -> list[TrainingFolder]:
    return training.folders()


@router.get(
    "/defaults",
    response_model=TrainingDefaults,
    dependencies=[ReadAccess],
    summary="The configured training settings and the models training accepts as a base",
)
def defaults(training: TrainingDep) -> TrainingDefaults:
    return training.defaults()


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    dependencies=[GenerateAccess],
    # 400: a folder outside the training area; 404: base or folder; 409: output name taken
    responses=error_responses(400, 404, 409, 429),
    summary="Train a LoRA on a listed folder or on uploaded captioned images (a job)",
)
def start_training(body: TrainingCreate, training: TrainingDep) -> JobPublic:
    return public_job(training.submit(body))
