"""Batches end to end over HTTP with the tiny SD 1.5 model (SPEC §5)."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from imajin.engine.metadata import read_metadata
from imajin.jobs.models import JobStatus
from imajin.storage.local import LocalFileStorage
from imajin.studio.handler import StudioRenderer
from imajin.studio.repository import batch_status
from imajin.studio.schemas import BatchStatus
from imajin.wiring import Platform
from tests.conftest import LiveServer
from tests.studio.conftest import ServedFactory, wait_batch

SLUGS = ["alpha-circle", "beta-square", "gamma-star"]


def start_batch(live: LiveServer, **body: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{live.url}/api/generate/batch",
        json={"set_name": "mini", "user_theme": "art nouveau, gold leaf", "seed": 40, **body},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    return created


def sse(url: str, count: int, timeout: float = 120) -> list[dict[str, Any]]:
    """The first ``count`` events of a server-sent event stream."""
    events: list[dict[str, Any]] = []
    with httpx.stream("GET", url, timeout=timeout) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
                if len(events) == count:
                    break
    return events


def test_batch_end_to_end(served: tuple[LiveServer, Platform]) -> None:
    live, platform = served
    created = start_batch(live)
    assert created["set_name"] == "mini" and created["total"] == 3
    assert len(created["job_ids"]) == 3
    folder = created["output_dir"]
    assert folder.startswith("mini_") and len(folder) == len("mini_20261202-101500")
    timestamp = folder.removeprefix("mini_")

    # Every item finishes, seen live on the event stream (job events carry the batch id).
    finished = sse(
        f"{live.url}/api/events?type=JOB_SUCCEEDED&subject={created['batch_id']}&after=0", 3
    )
    assert sorted(e["jobId"] for e in finished) == sorted(created["job_ids"])
    assert {e["payload"]["groupId"] for e in finished} == {created["batch_id"]}

    batch = wait_batch(live, created["batch_id"])
    assert batch["status"] == "complete"
    assert (batch["succeeded"], batch["failed"], batch["cancelled"]) == (3, 0, 0)
    assert [item["item"] for item in batch["items"]] == [
        "Alpha Circle",
        "Beta Square",
        "Gamma Star",
    ]

    outputs = platform.settings.data_dir / "outputs" / folder
    assert sorted(p.name for p in outputs.iterdir()) == sorted(
        [f"{timestamp}_{slug}.{ext}" for slug in SLUGS for ext in ("png", "json")] + ["thumbs"]
    )
    for index, (item, slug) in enumerate(zip(batch["items"], SLUGS, strict=True)):
        assert item["status"] == "succeeded" and item["error"] is None
        assert item["progress"]["step"] == item["progress"]["total"] == 2
        assert item["image_url"] == f"/api/outputs/{folder}/{timestamp}_{slug}.png"
        image_path = outputs / f"{timestamp}_{slug}.png"
        embedded = read_metadata(image_path)
        sidecar = json.loads((outputs / f"{timestamp}_{slug}.json").read_text())
        assert read_metadata(outputs / f"{timestamp}_{slug}.json") == embedded  # they agree
        assert embedded.seed == 40 + index and embedded.steps == 2
        assert (embedded.width, embedded.height) == (64, 64)
        assert embedded.prompt.startswith("a flat icon, art nouveau, gold leaf, ")
        assert embedded.prompt.endswith(", clean vector style")
        assert embedded.negative_prompt.startswith("text, watermark")
        assert "child" in embedded.negative_prompt  # legal safety terms, always
        assert sidecar["studio"]["batch_id"] == created["batch_id"]
        assert sidecar["studio"]["index"] == index
        served_png = httpx.get(live.url + item["image_url"])
        assert served_png.headers["content-type"] == "image/png"
        assert served_png.content == image_path.read_bytes()
        assert httpx.get(live.url + item["sidecar_url"]).json() == sidecar
        thumb = httpx.get(live.url + item["thumbnail_url"])
        assert Image.open(io.BytesIO(thumb.content)).format == "WEBP"
    assert "knots" in read_metadata(outputs / f"{timestamp}_beta-square.png").negative_prompt

    listed = httpx.get(f"{live.url}/api/batches").json()
    assert listed["total"] == 1
    (summary,) = listed["items"]
    assert summary["status"] == "complete" and summary["succeeded"] == 3
    assert summary["thumbnail_url"] == f"/api/outputs/{folder}/thumbs/{timestamp}_alpha-circle.webp"
    jobs = httpx.get(f"{live.url}/api/jobs", params={"groupId": created["batch_id"]}).json()
    assert jobs["total"] == 3 and {j["kind"] for j in jobs["items"]} == {"batch_item"}


def test_per_job_event_stream_shows_progress_then_success(
    served: tuple[LiveServer, Platform],
) -> None:
    live, _ = served
    created = start_batch(live)
    job_id = created["job_ids"][2]
    types = [e["type"] for e in sse(f"{live.url}/api/jobs/{job_id}/events", 100)]
    assert types[0] == "JOB_QUEUED" and types[-1] == "JOB_SUCCEEDED"
    assert "JOB_PROGRESS" in types


def test_batch_list_pages_newest_first(served: tuple[LiveServer, Platform]) -> None:
    live, _ = served
    first = start_batch(live)["batch_id"]
    second = start_batch(live, user_theme="ukiyo-e")["batch_id"]
    page = httpx.get(f"{live.url}/api/batches", params={"limit": 1}).json()
    assert page["total"] == 2 and page["limit"] == 1
    assert [b["batch_id"] for b in page["items"]] == [second]
    page = httpx.get(f"{live.url}/api/batches", params={"limit": 1, "offset": 1}).json()
    assert [b["batch_id"] for b in page["items"]] == [first]
    wait_batch(live, first)
    wait_batch(live, second)


def test_full_queue_queues_nothing(make_served: ServedFactory) -> None:
    live, platform = make_served(IMAJIN_JOBS__QUEUES='{"studio": {"capacity": 2}}')
    response = httpx.post(f"{live.url}/api/generate/batch", json={"set_name": "mini"})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert platform.jobs.repository.page()[1] == 0
    assert platform.studio.batches.page(limit=10, offset=0)[1] == 0
    outputs = platform.settings.data_dir / "outputs"
    assert not outputs.exists() or list(outputs.iterdir()) == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"set_name": "no-such-set"}, 404, "set_name"),
        ({"set_name": "mini", "user_theme": "nude child on a bed"}, 422, "user_theme"),
        ({"set_name": "mini", "user_theme": "x" * 501}, 422, "user_theme"),
        ({"set_name": "mini", "seed": -1}, 422, "seed"),
        ({"set_name": "mini", "priority": 101}, 422, "priority"),
        ({"set_name": "mini", "colour": "red"}, 422, "colour"),
        ({"set_name": "broken"}, 422, "csv_path"),
    ],
)
def test_bad_batch_requests_queue_nothing(
    served: tuple[LiveServer, Platform], body: dict[str, Any], status: int, field: str
) -> None:
    live, platform = served
    (platform.settings.data_dir / "sets" / "broken.yaml").write_text(
        "name: broken\ncsv_path: gone.csv\nprompt_template: x\n", encoding="utf-8"
    )
    response = httpx.post(f"{live.url}/api/generate/batch", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert platform.jobs.repository.page()[1] == 0


class DiskFullFor(LocalFileStorage):
    """Outputs whose image write fails, after the temporary file was written, for one item."""

    def __init__(self, root: Path, doomed: str) -> None:
        super().__init__(root)
        self._doomed = doomed

    @contextmanager
    def atomic_path(self, name: str) -> Iterator[Path]:
        with super().atomic_path(name) as tmp:
            yield tmp
            if self._doomed in name and name.endswith(".png"):
                raise OSError(28, "No space left on device")


def test_a_failed_item_leaves_no_file_and_the_batch_is_partial(
    served: tuple[LiveServer, Platform],
) -> None:
    live, platform = served
    outputs = DiskFullFor(platform.studio.outputs.root, "beta-square")
    renderer = StudioRenderer(engine=lambda: platform.engine, outputs=outputs, thumbnail_px=32)
    platform.handlers.replace("batch_item", renderer.batch_item)
    created = start_batch(live)
    batch = wait_batch(live, created["batch_id"])
    assert batch["status"] == "partial"
    assert (batch["succeeded"], batch["failed"]) == (2, 1)
    beta = batch["items"][1]
    assert beta["status"] == "failed" and "No space left on device" in beta["error"]
    assert beta["image_url"] is None and beta["sidecar_url"] is None
    folder = platform.studio.outputs.root / created["output_dir"]
    names = [p.name for p in folder.rglob("*")]
    assert not [name for name in names if "beta" in name or "tmp" in name], names
    assert len([name for name in names if name.endswith(".png")]) == 2


def test_cancelled_items_end_the_batch_as_partial(served: tuple[LiveServer, Platform]) -> None:
    live, platform = served
    platform.stop()  # no worker: the jobs stay queued until cancelled
    created = start_batch(live)
    for job_id in created["job_ids"][1:]:
        assert httpx.delete(f"{live.url}/api/jobs/{job_id}").status_code == 200
    assert httpx.get(f"{live.url}/api/batches/{created['batch_id']}").json()["status"] == "queued"
    platform.start()
    batch = wait_batch(live, created["batch_id"])
    assert batch["status"] == "partial" and batch["cancelled"] == 2


@pytest.mark.parametrize(
    ("counts", "status"),
    [
        ({"queued": 3}, BatchStatus.QUEUED),
        ({"queued": 2, "running": 1}, BatchStatus.RUNNING),
        ({"queued": 2, "succeeded": 1}, BatchStatus.RUNNING),
        ({"queued": 1, "cancelled": 2}, BatchStatus.QUEUED),
        ({"succeeded": 3}, BatchStatus.COMPLETE),
        ({"succeeded": 1, "failed": 2}, BatchStatus.PARTIAL),
        ({"succeeded": 1, "cancelled": 2}, BatchStatus.PARTIAL),
        ({"failed": 1, "cancelled": 2}, BatchStatus.FAILED),
        ({"cancelled": 3}, BatchStatus.CANCELLED),
    ],
)
def test_batch_status_is_derived_from_its_jobs(counts: dict[str, int], status: BatchStatus) -> None:
    assert batch_status(Counter({JobStatus(k): v for k, v in counts.items()}), 3) == status
