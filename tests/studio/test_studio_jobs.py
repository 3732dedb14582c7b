"""Studio jobs that end without success leave no empty output folder behind."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import httpx

from imajin.jobs.models import JobStatus
from imajin.store.tables import utcnow
from imajin.studio.params import BatchItemParams, GenerateParams
from imajin.testing.manifest import write_tiny_manifest
from tests.studio.conftest import ServedFactory

LOST_WORKER = "elsewhere:1:x:local-0"


def folders(outputs: Path) -> list[str]:
    return sorted(p.name for p in outputs.iterdir()) if outputs.exists() else []


def test_a_generate_job_lost_with_its_worker_removes_its_empty_folder(
    make_served: ServedFactory,
) -> None:
    live, platform = make_served(IMAJIN_JOBS__WORKERS="0", IMAJIN_JOBS__MAX_ATTEMPTS="1")
    outputs = platform.settings.data_dir / "outputs"
    kept = httpx.post(f"{live.url}/api/generate", json={"prompt": "a kept cat"}).json()
    lost = httpx.post(f"{live.url}/api/generate", json={"prompt": "a lost cat"}).json()
    kept_folder, lost_folder = (
        platform.jobs.get(job["job_id"]).params["outputDir"] for job in (kept, lost)
    )
    assert set(folders(outputs)) == {kept_folder, lost_folder}  # reserved at submit

    repository = platform.jobs.repository
    for job in (kept, lost):
        repository.claim(job["job_id"], LOST_WORKER)
        repository.begin_attempt(job["job_id"], LOST_WORKER)
    (outputs / lost_folder / "thumbs").mkdir()  # what a failed write can leave: no files
    (outputs / kept_folder / "thumbs").mkdir()
    (outputs / kept_folder / "thumbs" / "someone-elses.webp").write_bytes(b"x")
    repository.recover(stale_before=utcnow() + timedelta(seconds=1), dead=lambda _w: False)

    assert platform.jobs.get(lost["job_id"]).status == JobStatus.FAILED
    assert folders(outputs) == [kept_folder]  # a folder with a file in it is not removed


def test_a_batch_whose_last_item_fails_takes_its_empty_folder_with_it(
    make_served: ServedFactory,
) -> None:
    live, platform = make_served(IMAJIN_JOBS__WORKERS="0", IMAJIN_JOBS__MAX_ATTEMPTS="1")
    outputs = platform.settings.data_dir / "outputs"
    created = httpx.post(
        f"{live.url}/api/generate/batch", json={"set_name": "mini", "user_theme": "pastel"}
    ).json()
    jobs = platform.studio.batch_jobs(created["batch_id"])
    assert len(jobs) == 3 and len(folders(outputs)) == 1  # reserved at submit

    repository = platform.jobs.repository
    first, *rest = jobs
    repository.claim(first.id, LOST_WORKER)
    repository.begin_attempt(first.id, LOST_WORKER)
    repository.recover(stale_before=utcnow() + timedelta(seconds=1), dead=lambda _w: False)
    assert platform.jobs.get(first.id).status == JobStatus.FAILED
    assert len(folders(outputs)) == 1  # two items are still queued: they will write there

    for job in rest:
        platform.jobs.cancel(job.id)
    assert folders(outputs) == []  # the last one ended and nothing was written


def test_a_generate_job_that_fails_in_the_engine_removes_its_folder(
    make_served: ServedFactory, data_dir: Path, tiny_sdxl_path: Path, tiny_sd15_lora: Path
) -> None:
    # Over HTTP a model is an id and a LoRA a file name in the LoRA folder (SPEC §2.1).
    write_tiny_manifest(data_dir, {"tiny-sdxl": tiny_sdxl_path})
    (data_dir / "models" / "loras").mkdir(parents=True, exist_ok=True)
    shutil.copy(tiny_sd15_lora, data_dir / "models" / "loras" / tiny_sd15_lora.name)
    live, platform = make_served()
    outputs = platform.settings.data_dir / "outputs"
    body = {  # an SD 1.5 LoRA on an SDXL model: refused when the job runs
        "prompt": "a lighthouse",
        "model": "tiny-sdxl",
        "loras": [{"path": tiny_sd15_lora.name}],
    }
    accepted = httpx.post(f"{live.url}/api/generate", json=body, timeout=30)
    assert accepted.status_code == 202, accepted.text
    done = platform.jobs.wait(accepted.json()["job_id"], timeout_s=120)
    assert done.status == JobStatus.FAILED and done.error is not None
    assert folders(outputs) == []


def test_params_stored_before_the_models_existed_still_validate_and_keep_their_keys() -> None:
    request = {"prompt": "a cat", "model": "sd15", "steps": 2, "num_images": 1, "loras": []}
    batch_item = {  # as create_batch wrote them, key for key
        "batchId": "b1",
        "setName": "mini",
        "userTheme": "pastel",
        "index": 2,
        "item": "Gamma Star",
        "values": {"name": "Gamma Star", "material": "brass"},
        "output": "mini_20260101-000000/20260101-000000_gamma-star.png",
        "quality": 95,
        "request": request,
    }
    generate = {
        "outputDir": "single_20260101-000000",
        "stamp": "20260101-000000",
        "format": "webp",
        "quality": 80,
        "request": request,
    }
    assert BatchItemParams.model_validate(batch_item).stored() == batch_item
    assert GenerateParams.model_validate(generate).stored() == generate
