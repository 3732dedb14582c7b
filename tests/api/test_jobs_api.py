"""The job API over HTTP: list, get, cancel, and resumable server-sent events."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.events.models import JobEvent
from imajin.jobs.models import JobStatus
from imajin.store.migrate import upgrade
from imajin.wiring import Platform, build_platform
from tests.conftest import LiveServer
from tests.jobs.conftest import noop
from tests.support.sse import read_sse


@pytest.fixture
def server(tmp_path: object) -> Iterator[tuple[LiveServer, Platform]]:
    environ = {"IMAJIN_DATA_DIR": f"{tmp_path}/data", "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05"}
    platform = build_platform(load_settings(environ=environ))
    upgrade(platform.database)
    app: FastAPI = create_app(platform)
    with LiveServer(app) as live:
        yield live, platform
    platform.close()


def test_list_get_and_filter(server: tuple[LiveServer, Platform]) -> None:
    live, platform = server
    platform.jobs.dispatcher.stop()  # keep jobs queued for this test
    jobs = platform.jobs.submit_many([noop(), noop(), noop()])
    page = httpx.get(live.url + "/api/jobs", params={"limit": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["limit"] == 2
    assert {"id", "status", "progress", "createdAt", "cancelRequested"} <= set(page["items"][0])
    one = httpx.get(live.url + f"/api/jobs/{jobs[0].id}").json()
    assert one["id"] == jobs[0].id and one["status"] == "queued"
    filtered = httpx.get(live.url + "/api/jobs", params={"status": "succeeded"}).json()
    assert filtered["total"] == 0
    bad = httpx.get(live.url + "/api/jobs", params={"status": "sleeping"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "query.status"


def test_unknown_job_is_404_and_finished_job_cancel_is_409(
    server: tuple[LiveServer, Platform],
) -> None:
    live, platform = server
    assert httpx.get(live.url + "/api/jobs/nope").status_code == 404
    assert httpx.delete(live.url + "/api/jobs/nope").status_code == 404
    job = platform.jobs.submit(noop())
    platform.jobs.wait(job.id)
    conflict = httpx.delete(live.url + f"/api/jobs/{job.id}")
    assert conflict.status_code == 409
    assert "already succeeded" in conflict.json()["error"]["message"]


def test_cancel_queued_job_over_http(server: tuple[LiveServer, Platform]) -> None:
    live, platform = server
    platform.jobs.dispatcher.stop()
    job = platform.jobs.submit(noop())
    response = httpx.delete(live.url + f"/api/jobs/{job.id}")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_job_events_stream_to_the_end_and_resume_with_last_event_id(
    server: tuple[LiveServer, Platform],
) -> None:
    live, platform = server
    job = platform.jobs.submit(noop(steps=5, sleep_s=0.25))
    url = live.url + f"/api/jobs/{job.id}/events"
    with httpx.stream("GET", url, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        first_two = read_sse(response, limit=2)
    assert [e["event"] for e in first_two] == [JobEvent.QUEUED, JobEvent.STARTED]

    # Reconnect as a browser would: everything after the last id arrives, nothing twice.
    resume_from = str(first_two[-1]["id"])
    with httpx.stream("GET", url, headers={"Last-Event-ID": resume_from}, timeout=30) as response:
        rest = read_sse(response)
    assert rest[0]["event"] == JobEvent.PROGRESS
    assert rest[-1]["event"] == JobEvent.SUCCEEDED  # the stream closes after the final event
    ids = [int(str(e["id"])) for e in first_two + rest]
    assert ids == sorted(set(ids))
    stored = [e.id for e in platform.events.after(0, job_id=job.id)]
    assert ids == stored


def test_events_feed_filters_by_type(server: tuple[LiveServer, Platform]) -> None:
    live, platform = server
    start = platform.events.last_id()
    jobs = [platform.jobs.submit(noop()).id for _ in range(2)]
    for job_id in jobs:
        platform.jobs.wait(job_id)
    params = {"type": JobEvent.SUCCEEDED, "after": start}
    with httpx.stream("GET", live.url + "/api/events", params=params, timeout=30) as response:
        events = read_sse(response, limit=2)
    assert [e["event"] for e in events] == [JobEvent.SUCCEEDED] * 2
    assert sorted(e["data"]["jobId"] for e in events) == sorted(jobs)  # type: ignore[index]


def test_analytics_and_metrics_reflect_finished_jobs(server: tuple[LiveServer, Platform]) -> None:
    live, platform = server
    ok = platform.jobs.submit(noop())
    bad = platform.jobs.submit(noop(fail=True))
    platform.jobs.wait(ok.id)
    platform.jobs.wait(bad.id)
    deadline = time.monotonic() + 10
    while True:  # the relay delivers to the analytics consumer asynchronously
        stats = httpx.get(live.url + "/api/analytics").json()["kinds"].get("noop")
        if stats and stats["succeeded"] + stats["failed"] == 2:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert stats["successRate"] == 0.5
    assert stats["throughputPerMin"] > 0
    assert stats["p50DurationS"] is not None
    metrics = httpx.get(live.url + "/metrics").text
    assert 'imajin_jobs_finished_total{kind="noop",status="succeeded"} 1.0' in metrics
    assert platform.jobs.get(bad.id).status == JobStatus.FAILED
