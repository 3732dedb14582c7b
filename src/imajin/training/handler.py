"""The ``train_lora`` job kind: train a LoRA from the API or UI through the job system.

A job names a training folder under the configured data root, a base model
(style, id or path, as generation requests do), an output name and optional
setting overrides. Paths from the job are confined to their roots; the LoRA
lands in the LoRA folder as ``<output>.safetensors``, usable by id at once.
Progress is reported per step (which is also where a cancel is seen), and the
file is written only after the last step, atomically, so a cancelled or
failed job leaves no LoRA behind (its checkpoints stay, for a resume).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from imajin.config.training import TrainingSettings
from imajin.engine.spec import ModelSpec
from imajin.errors import InvalidInput, NotFound
from imajin.jobs.handlers import Handler, JobContext
from imajin.jobs.models import JobSpec
from imajin.storage.paths import confine_path

JOB_KIND = "train_lora"
TRAINING_QUEUE = "training"


class TrainingJobParams(BaseModel):
    """The ``params`` of a ``train_lora`` job."""

    model_config = ConfigDict(extra="forbid")

    data: str = Field(min_length=1, description="Training folder, relative to the data root.")
    base: str = Field(min_length=1, description="Base model: a style, a model id or a path.")
    output: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
        description="LoRA name; the file is <lora folder>/<output>.safetensors.",
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Training settings for this job (rank, max_steps ...)."
    )
    resume: bool = Field(True, description="Continue from this output's newest checkpoint.")


def training_job(
    *,
    data: str,
    base: str,
    output: str,
    overrides: dict[str, Any] | None = None,
    resume: bool = True,
    priority: int = 0,
) -> JobSpec:
    """The job spec that trains a LoRA (queue ``training``), with its params validated."""
    params = TrainingJobParams(
        data=data, base=base, output=output, overrides=overrides or {}, resume=resume
    )
    return JobSpec(
        kind=JOB_KIND, params=params.model_dump(), queue=TRAINING_QUEUE, priority=priority
    )


def make_training_handler(
    *,
    resolve_model: Callable[[str], ModelSpec],
    data_root: Path,
    output_root: Path,
    defaults: TrainingSettings,
    offline: bool = True,
    cache_dir: Path | None = None,
) -> Handler:
    """The handler of ``train_lora`` jobs.

    Args:
        resolve_model: A job's ``base`` → its spec (``platform.models.resolve``).
        data_root: Training folders must lie under it (``<data_dir>/training``).
        output_root: Where LoRA files are written (``<data_dir>/models/loras``).
        defaults: The configured training settings; a job's overrides apply on top.
        offline: Load bases only from local files / the HF cache.
        cache_dir: Hugging Face cache folder (None: its default).
    """

    def handle(ctx: JobContext) -> dict[str, Any]:
        from imajin.training.trainer import (  # noqa: PLC0415 - imports torch
            TrainingProgress,
            train_lora,
        )

        params = _parse(ctx.job.params)
        data_dir = confine_path(data_root, params.data, field="params.data")
        if not data_dir.is_dir():
            raise NotFound(
                # The data directory's location is the server's business, not the caller's.
                f"params.data: no training folder {params.data!r} in the training area "
                f"(`{data_root.name}/` of the data directory)",
                field="params.data",
            )
        output = confine_path(output_root, f"{params.output}.safetensors", field="params.output")
        settings = _settings(defaults, params.overrides)
        spec = resolve_model(params.base)

        def progress(update: TrainingProgress) -> None:
            # Encoding counts images, not steps: show it as step 0 of the run.
            step = update.step if update.phase == "training" else 0
            ctx.report(
                step, settings.max_steps, update.message, phase=update.phase, loss=update.loss
            )

        result = train_lora(
            data_dir=data_dir,
            base=spec,
            output=output,
            settings=settings,
            progress=progress,
            resume=params.resume,
            offline=offline,
            cache_dir=cache_dir,
        )
        return {**result.to_dict(), "name": params.output, "base": spec.id}

    return handle


def _parse(params: dict[str, Any]) -> TrainingJobParams:
    try:
        return TrainingJobParams.model_validate(params)
    except ValidationError as exc:
        raise _invalid(exc, prefix="params") from exc


def _settings(defaults: TrainingSettings, overrides: dict[str, Any]) -> TrainingSettings:
    try:
        return TrainingSettings.model_validate({**defaults.model_dump(), **overrides})
    except ValidationError as exc:
        raise _invalid(exc, prefix="params.overrides") from exc


def _invalid(exc: ValidationError, *, prefix: str) -> InvalidInput:
    error = exc.errors()[0]
    where = ".".join([prefix, *(str(part) for part in error["loc"])])
    return InvalidInput(f"{where}: {error['msg']}", field=where)
