"""The `train_lora` job kind: through the local dispatcher, and its checks and cancel."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from imajin.config.training import TrainingSettings
from imajin.errors import InvalidInput, NotFound
from imajin.events.models import JobEvent
from imajin.jobs.handlers import JobCancelled, JobContext
from imajin.jobs.models import JobSpec, JobStatus
from imajin.storage.paths import UnsafePath
from imajin.training import (
    JOB_KIND,
    UnsupportedBase,
    checkpoint_folder,
    make_training_handler,
    training_job,
)
from imajin.wiring import Platform
from tests.training.conftest import write_training_set


@pytest.fixture
def trainer_platform(platform: Platform, quick_settings: TrainingSettings) -> Platform:
    """The test platform with quick training defaults and a training folder `shapes`."""
    data_dir = platform.settings.data_dir
    write_training_set(data_dir / "training" / "shapes")
    platform.handlers.replace(  # the platform registers the kind; use test-sized defaults
        JOB_KIND,
        make_training_handler(
            resolve_model=lambda model: platform.models.resolve(model, allow_paths=True),
            data_root=data_dir / "training",
            output_root=data_dir / "models" / "loras",
            defaults=quick_settings,
        ),
    )
    return platform


def run_directly(
    platform: Platform, params: dict[str, Any], *, cancel_at: int | None = None
) -> dict[str, Any] | None:
    """Run the handler in this thread with a context like the job runner's."""
    job = platform.jobs.submit(JobSpec(kind=JOB_KIND, params=params))

    def sink(step: int, total: int, message: str, extra: dict[str, Any]) -> bool:
        return cancel_at is not None and step >= cancel_at

    ctx = JobContext(
        job=job,
        logger=logging.LoggerAdapter(logging.getLogger("test"), {"job_id": job.id}),
        _progress=sink,
        _min_interval_s=0.0,  # see every step's report
    )
    return platform.handlers.get(JOB_KIND)(ctx)


def test_job_trains_through_the_local_dispatcher_and_the_lora_is_usable_by_id(
    trainer_platform: Platform, tiny_sd15_path: Path
) -> None:
    platform = trainer_platform
    platform.start()
    job = platform.jobs.submit(
        training_job(
            data="shapes",
            base=str(tiny_sd15_path),
            output="shapes-v1",
            overrides={"max_steps": 4, "save_every": 2},
        )
    )
    assert job.queue == "training"
    done = platform.jobs.wait(job.id, timeout_s=120)
    assert done.status == JobStatus.SUCCEEDED, done.error
    lora = platform.settings.data_dir / "models" / "loras" / "shapes-v1.safetensors"
    assert done.result is not None
    assert (done.result["path"], done.result["steps"], done.result["name"]) == (
        str(lora),
        4,
        "shapes-v1",
    )
    assert lora.is_file()
    progress = [
        event.payload
        for event in platform.events.after(0, job_id=job.id)
        if event.type == JobEvent.PROGRESS
    ]
    assert (progress[-1]["step"], progress[-1]["total"]) == (4, 4)
    assert progress[-1]["phase"] == "training" and progress[-1]["loss"] > 0

    result = platform.engine.generate(
        {
            "prompt": "a red circle",
            "model": str(tiny_sd15_path),
            "seed": 3,
            "loras": [{"id": "shapes-v1", "weight": 1.0}],
        }
    )
    assert result.images[0].parameters.loras[0].name == "shapes-v1"


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"data": "../shapes"}, UnsafePath, "params.data"),
        ({"data": "/etc"}, UnsafePath, "params.data"),
        ({"data": "shapes/%2e%2e"}, UnsafePath, "params.data"),
        ({"data": "nothing-here"}, NotFound, "params.data"),
        ({"output": "../escape"}, InvalidInput, "params.output"),
        ({"output": "a/b"}, InvalidInput, "params.output"),
        ({"overrides": {"rank": 0}}, InvalidInput, "params.overrides.rank"),
        ({"overrides": {"ranks": 4}}, InvalidInput, "params.overrides.ranks"),
        ({"extra": True}, InvalidInput, "params.extra"),
    ],
)
def test_bad_params_are_refused_with_the_field_named(
    trainer_platform: Platform,
    tiny_sd15_path: Path,
    change: dict[str, Any],
    error: type[Exception],
    field: str,
) -> None:
    params = {"data": "shapes", "base": str(tiny_sd15_path), "output": "x", **change}
    with pytest.raises(error) as raised:
        run_directly(trainer_platform, params)
    assert getattr(raised.value, "field", None) == field
    assert not list((trainer_platform.settings.data_dir / "models").rglob("*.safetensors"))


def test_unsupported_base_is_refused(trainer_platform: Platform, tiny_sd3_path: Path) -> None:
    with pytest.raises(UnsupportedBase, match="SD3"):
        run_directly(
            trainer_platform, {"data": "shapes", "base": str(tiny_sd3_path), "output": "x"}
        )


def test_cancel_stops_at_a_step_report_and_leaves_no_lora(
    trainer_platform: Platform, tiny_sd15_path: Path
) -> None:
    params: dict[str, Any] = {
        "data": "shapes",
        "base": str(tiny_sd15_path),
        "output": "halted",
        "overrides": {"save_every": 1},
    }
    with pytest.raises(JobCancelled):
        run_directly(trainer_platform, params, cancel_at=2)
    output = trainer_platform.settings.data_dir / "models" / "loras" / "halted.safetensors"
    assert not output.exists()
    assert not [p for p in output.parent.iterdir() if p.suffix == ".safetensors"]
    # Step 2 finished (and was checkpointed) before its report saw the cancel.
    assert sorted(p.name for p in checkpoint_folder(output).iterdir())[-1] == "step-0000002"
    result = run_directly(trainer_platform, params)
    assert result is not None and result["resumed_from"] == 2


def test_a_missing_folder_is_named_without_the_servers_data_path(
    trainer_platform: Platform, tiny_sd15_path: Path
) -> None:
    params = {"data": "nothing-here", "base": str(tiny_sd15_path), "output": "x"}
    with pytest.raises(NotFound) as raised:
        run_directly(trainer_platform, params)
    message = raised.value.message
    assert "'nothing-here'" in message and "training area" in message
    assert str(trainer_platform.settings.data_dir) not in message
