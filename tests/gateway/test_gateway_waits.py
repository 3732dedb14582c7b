"""A gateway request waiting for its job holds no request thread (it waits on the event loop).

With one request thread, three chat requests wait on queued jobs while a plain sync route
still answers at once. When the routes waited in the thread pool, the second request could
not even be queued until the first had timed out.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from imajin.api.app import create_app
from tests.conftest import LiveServer
from tests.gateway.conftest import GatewayFactory


def test_waiting_requests_leave_the_request_threads_free(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(
        IMAJIN_JOBS__WORKERS="0",  # nobody runs the jobs: every request waits its full timeout
        IMAJIN_SERVER__REQUEST_THREADS="1",
        IMAJIN_GATEWAY__ENDPOINTS__SHORTS__TIMEOUT_S="6",
    )
    jobs = gateway.platform.jobs
    with LiveServer(create_app(gateway.platform)) as live, ThreadPoolExecutor(3) as pool:
        url = f"{live.url}/v1/chat/shorts/generate"
        waiting = [
            pool.submit(httpx.post, url, json={"message": "a tree"}, timeout=30) for _ in range(3)
        ]
        # Bounds with room for a loaded machine: on the old routes the second request waited
        # the first one's whole 6 s timeout.
        deadline = time.monotonic() + 3
        while jobs.page(limit=1)[1] < 3:  # all three queued while the first still waits
            assert time.monotonic() < deadline, "requests were held behind a waiting one"
            time.sleep(0.05)
        started = time.monotonic()
        listed = httpx.get(f"{live.url}/api/jobs", timeout=10)  # a sync route, on the thread
        assert listed.status_code == 200 and time.monotonic() - started < 3.0
        answers = [future.result() for future in waiting]
    assert [answer.status_code for answer in answers] == [202, 202, 202]
    assert {answer.json()["job_id"] for answer in answers} == {j.id for j in jobs.page()[0]}
