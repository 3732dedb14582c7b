"""``/health`` answers while every request thread is busy (it never waits on the pool)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi import APIRouter

from imajin.api.app import create_app
from imajin.wiring import Platform
from tests.conftest import LiveServer

BLOCKERS = 60  # more than the request thread pool holds (anyio: 40)


def test_health_answers_while_the_thread_pool_is_saturated(platform: Platform) -> None:
    release = threading.Event()
    inside = 0
    lock = threading.Lock()
    router = APIRouter()

    @router.get("/probe/block")
    def block() -> None:  # a sync route: it holds a pool thread until released
        nonlocal inside
        with lock:
            inside += 1
        release.wait(30)

    app = create_app(platform)
    app.include_router(router)
    limits = httpx.Limits(max_connections=BLOCKERS + 1)
    with (
        LiveServer(app) as live,
        httpx.Client(base_url=live.url, limits=limits, timeout=60) as http,
        ThreadPoolExecutor(BLOCKERS) as clients,
    ):
        try:
            blocked = [clients.submit(http.get, "/probe/block") for _ in range(BLOCKERS)]
            settled, deadline = -1, time.monotonic() + 20
            while settled != inside and time.monotonic() < deadline:  # until no more get in
                settled = inside
                time.sleep(0.2)
            assert 0 < inside < BLOCKERS  # the pool is full; the rest wait for a thread
            started = time.perf_counter()
            response = http.get("/health", timeout=5)
            elapsed = time.perf_counter() - started
        finally:
            release.set()
        assert all(f.result().status_code == 200 for f in blocked)
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert elapsed < 3.0  # a probe queued behind the pool would time out at 5 s
