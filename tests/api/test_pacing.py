"""Paced request starts, route trees built before serving, and few thread hops per request.

Together they keep ``/health`` quick while a burst lands (benchmarks/api/bench_overload.py
measures that); here each part is checked on a real event loop and a real app.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import fastapi.routing
import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from imajin.api.app import create_app
from imajin.api.pacing import PacedStarts
from imajin.cli.serve import uvicorn_options
from imajin.config import load_settings
from imajin.store.migrate import upgrade
from imajin.wiring import build_platform


class TurnCounter:
    """Counts event-loop turns: a callback that reschedules itself runs once per turn."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.turn = 0
        self._loop = loop
        self._stopped = False
        loop.call_soon(self._tick)

    def _tick(self) -> None:
        self.turn += 1
        if not self._stopped:
            self._loop.call_soon(self._tick)

    def stop(self) -> None:
        self._stopped = True


def _scope(path: str) -> Scope:
    return {"type": "http", "method": "GET", "path": path, "headers": []}


async def _receive() -> Message:
    return {"type": "http.request", "body": b""}


async def _send(_message: Message) -> None:
    return None


def _recording_app(started: list[tuple[str, int]], turns: Callable[[], int]) -> Any:
    async def app(scope: Scope, _receive: Receive, _send: Send) -> None:
        started.append((scope["path"], turns()))

    return app


def test_a_burst_starts_at_most_per_turn_requests_each_turn_in_arrival_order() -> None:
    async def burst() -> list[tuple[str, int]]:
        counter = TurnCounter(asyncio.get_running_loop())
        started: list[tuple[str, int]] = []
        paced = PacedStarts(_recording_app(started, lambda: counter.turn), per_turn=4)
        await asyncio.gather(*(paced(_scope(f"/r/{i}"), _receive, _send) for i in range(50)))
        counter.stop()
        return started

    started = asyncio.run(burst())
    assert [path for path, _ in started] == [f"/r/{i}" for i in range(50)]
    per_turn = Counter(turn for _, turn in started)
    assert max(per_turn.values()) == 4
    assert len(per_turn) >= 50 // 4  # spread over turns, not all in one


def test_health_probes_skip_the_line() -> None:
    async def burst() -> list[tuple[str, int]]:
        counter = TurnCounter(asyncio.get_running_loop())
        started: list[tuple[str, int]] = []
        paced = PacedStarts(_recording_app(started, lambda: counter.turn), per_turn=2)
        calls = [paced(_scope(f"/r/{i}"), _receive, _send) for i in range(40)]
        calls += [paced(_scope(path), _receive, _send) for path in ("/health", "/healthz")]
        await asyncio.gather(*calls)
        counter.stop()
        return started

    started = asyncio.run(burst())
    first_turn = started[0][1]
    health = [turn for path, turn in started if path in ("/health", "/healthz")]
    assert health == [first_turn, first_turn]  # not behind the 38 that waited
    assert started[-1][0].startswith("/r/")


def test_a_started_request_holds_no_place() -> None:
    """Long requests (streams, gateway waits) never stop later ones from starting."""

    async def burst() -> int:
        release = asyncio.Event()
        finished = 0

        async def app(scope: Scope, _receive: Receive, _send: Send) -> None:
            nonlocal finished
            if scope["path"].startswith("/stream"):
                await release.wait()
            finished += 1

        paced = PacedStarts(app, per_turn=1)
        streams = [
            asyncio.create_task(paced(_scope(f"/stream/{i}"), _receive, _send)) for i in range(5)
        ]
        await asyncio.wait_for(
            asyncio.gather(*(paced(_scope(f"/r/{i}"), _receive, _send) for i in range(20))), 5
        )
        done_before_release = finished
        release.set()
        await asyncio.gather(*streams)
        return done_before_release

    assert asyncio.run(burst()) == 20


def test_a_waiter_whose_client_left_gives_its_place_away() -> None:
    async def burst() -> list[str]:
        started: list[tuple[str, int]] = []
        paced = PacedStarts(_recording_app(started, lambda: 0), per_turn=1)
        tasks = [asyncio.create_task(paced(_scope(f"/r/{i}"), _receive, _send)) for i in range(10)]
        await asyncio.sleep(0)  # all ten are in; nine wait
        for task in tasks[1:5]:
            task.cancel()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
        return [path for path, _ in started]

    assert asyncio.run(burst()) == ["/r/0", "/r/5", "/r/6", "/r/7", "/r/8", "/r/9"]


def test_a_new_event_loop_starts_from_a_clean_slate() -> None:
    """A loop that stopped with requests waiting (a server shut down mid-burst) leaves
    state behind; the next loop must not wait on turns that will never come."""
    started: list[tuple[str, int]] = []
    paced = PacedStarts(_recording_app(started, lambda: 0), per_turn=1)

    old_loop = asyncio.new_event_loop()
    waiting: list[asyncio.Task[None]] = []

    async def abandoned() -> None:
        waiting.extend(
            old_loop.create_task(paced(_scope(f"/old/{i}"), _receive, _send)) for i in range(5)
        )
        await asyncio.sleep(0)  # they run: one starts, four wait for a turn

    old_loop.run_until_complete(abandoned())
    for task in waiting:
        task.cancel()
    old_loop.close()  # stopped before the next turn's callback ran

    async def fresh() -> None:
        await asyncio.wait_for(
            asyncio.gather(*(paced(_scope(f"/new/{i}"), _receive, _send) for i in range(3))), 5
        )

    asyncio.run(fresh())
    assert [path for path, _ in started if path.startswith("/new/")] == [
        "/new/0",
        "/new/1",
        "/new/2",
    ]


def test_per_turn_must_be_positive() -> None:
    with pytest.raises(ValueError, match="per_turn must be at least 1"):
        PacedStarts(_recording_app([], lambda: 0), per_turn=0)


@pytest.fixture
def full_queue_client(tmp_path: Path) -> Iterator[TestClient]:
    """A server whose one queue place is taken (no workers run it)."""
    settings = load_settings(
        environ={
            "IMAJIN_DATA_DIR": str(tmp_path / "data"),
            "IMAJIN_JOBS__WORKERS": "0",
            "IMAJIN_JOBS__DEFAULT_CAPACITY": "1",
            "IMAJIN_SERVER__STARTS_PER_TURN": "3",
        },
        cwd=tmp_path,
    )
    platform = build_platform(settings)
    upgrade(platform.database)
    with TestClient(create_app(platform)) as client:
        assert client.post("/api/generate", json={"prompt": "a red barn"}).status_code == 202
        yield client
    platform.close()


def test_the_app_paces_starts_outside_everything_else(full_queue_client: TestClient) -> None:
    app = full_queue_client.app
    assert isinstance(app, fastapi.FastAPI)
    outermost = app.user_middleware[0]
    assert outermost.cls is PacedStarts  # type: ignore[comparison-overlap]  # starlette types cls as a factory
    assert outermost.kwargs == {"per_turn": 3}  # server.starts_per_turn


def test_route_trees_are_built_before_the_first_request(
    full_queue_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI builds an included router's routes on first use, on the event loop; the
    app builds them all at start-up instead (fastapi is pinned by the lock: if this
    private name moves, the count below fails loudly rather than passing)."""
    built = 0
    original = fastapi.routing._EffectiveRouteContext.from_api_route

    def counting(**kwargs: Any) -> Any:
        nonlocal built
        built += 1
        return original(**kwargs)

    monkeypatch.setattr(fastapi.routing._EffectiveRouteContext, "from_api_route", counting)
    for path in ("/health", "/api/jobs", "/api/sets", "/v1/nowhere"):
        full_queue_client.get(path)
    assert built == 0


def test_a_refused_submit_takes_two_thread_hops(
    full_queue_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key check and the route itself run on pool threads; the getters of the
    platform's services run on the loop (each hop cost the loop a burst's time)."""
    hops = 0
    original = anyio.to_thread.run_sync

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal hops
        hops += 1
        return await original(*args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    response = full_queue_client.post("/api/generate", json={"prompt": "a red barn"})
    assert response.status_code == 429
    assert hops == 2


def test_imajin_serve_runs_uvicorn_on_uvloop_with_httptools(full_queue_client: TestClient) -> None:
    """Python's own loop and the h11 parser cost a cold burst most of its /health budget."""
    import uvloop  # noqa: PLC0415

    settings = full_queue_client.app.state.platform.settings  # type: ignore[attr-defined]
    config = uvicorn.Config(full_queue_client.app, **uvicorn_options(settings.server))
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    loop_factory = config.get_loop_factory()
    assert loop_factory is not None
    loop = loop_factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
