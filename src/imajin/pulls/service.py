"""The ``pull_model`` job: download a manifest model into the Hugging Face cache.

Submitted by an admin (``POST /api/images/models/{id}/pull``); its progress events
carry the bytes done and the file being fetched, so a picker can show a bar. The
download itself is :func:`imajin.engine.pull.pull_model` (what ``imajin models pull``
runs in the foreground).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from imajin.engine.pull import PullProgress, hub_repo_of, pull_model
from imajin.engine.registry import ModelRegistry
from imajin.engine.spec import ModelSpec
from imajin.jobs.handlers import Handler, JobContext
from imajin.jobs.models import Job, JobSpec
from imajin.jobs.service import JobService

PULL_JOB = "pull_model"
PULL_QUEUE = "models"
_KIB = 1024


class PullJobParams(BaseModel):
    """The ``params`` of a ``pull_model`` job."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200, description="A manifest model id.")


class PullService:
    """Queues pulls of manifest models (hub repos only; a local source has nothing to fetch)."""

    def __init__(self, *, jobs: JobService, models: ModelRegistry) -> None:
        self._jobs = jobs
        self._models = models

    def submit(self, model_id: str) -> Job:
        """Queue a pull of ``model_id``.

        Raises:
            NotFound: No manifest model has this id.
            InvalidInput: Its source is not a hub repo.
            Overloaded: The ``models`` queue is full.
        """
        spec = self._models.get(model_id, allow_paths=False)
        hub_repo_of(spec)  # refuses a local or single-file source before anything is queued
        spec_job = JobSpec(
            kind=PULL_JOB, params=PullJobParams(model=spec.id).model_dump(), queue=PULL_QUEUE
        )
        return self._jobs.submit(spec_job)


def make_pull_handler(
    *, resolve_model: Callable[[str], ModelSpec], cache_dir: Path | None
) -> Handler:
    """The handler of ``pull_model`` jobs: progress in KiB, exact bytes in the event."""

    def handle(ctx: JobContext) -> dict[str, Any]:
        params = PullJobParams.model_validate(ctx.job.params)
        spec = resolve_model(params.model)

        def progress(update: PullProgress) -> None:
            # Both rounded up, so the last report (all bytes) is step == total: never skipped.
            ctx.report(
                math.ceil(update.done_bytes / _KIB),
                max(1, math.ceil(update.total_bytes / _KIB)),
                f"{update.file} ({update.files_done}/{update.files_total} files)",
                file=update.file,
                doneBytes=update.done_bytes,
                totalBytes=update.total_bytes,
                filesDone=update.files_done,
                filesTotal=update.files_total,
            )

        return pull_model(spec, cache_dir=cache_dir, on_progress=progress).to_dict()

    return handle
