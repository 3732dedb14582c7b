"""Job-system fixtures: a platform over a fresh database, with tunable job settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from imajin.config.loader import load_settings
from imajin.jobs.models import Job, JobSpec
from imajin.store.database import Database
from imajin.wiring import Platform, build_platform

PlatformFactory = Callable[..., Platform]


@pytest.fixture
def make_platform(tmp_path: Path, database: Database) -> Iterator[PlatformFactory]:
    """Build platforms over the (per-backend) test database with ``IMAJIN_JOBS__*`` overrides."""
    built: list[Platform] = []

    def make(start: bool = True, **jobs: Any) -> Platform:
        environ = {"IMAJIN_DATA_DIR": str(tmp_path / "data")}
        environ.update({f"IMAJIN_JOBS__{key.upper()}": str(value) for key, value in jobs.items()})
        platform = build_platform(load_settings(environ=environ, cwd=tmp_path), database=database)
        built.append(platform)
        if start:
            platform.start()
        return platform

    yield make
    for platform in built:
        platform.stop()


def noop(**params: Any) -> JobSpec:
    queue = params.pop("queue", "default")
    priority = params.pop("priority", 0)
    return JobSpec(kind="noop", params=params, queue=queue, priority=priority)


def event_types(platform: Platform, job: Job) -> list[str]:
    return [event.type for event in platform.events.after(0, job_id=job.id)]
