"""Paced request starts: a burst is let onto the event loop a few requests per turn.

All of a burst's connections become ready in the same event-loop turn, and the loop
runs every ready callback of a turn before it looks at the sockets again. Three
hundred submits arriving at once made one turn that ran three hundred requests up to
their first wait, 60–100 ms during which a ``/health`` probe that came a moment later
could not even be read.

:class:`PacedStarts` wraps the ASGI app and lets at most ``per_turn`` new requests
start in each turn; the others wait, in arrival order, for later turns. It gates only
the *start*: a request that has begun (a stream, a gateway wait) holds no place, so
long requests never hold up short ones. Health probes skip the line. The burst does
the same work in about the same time; what changes is that no single turn is long.
"""

from __future__ import annotations

import asyncio
from collections import deque

from starlette.types import ASGIApp, Receive, Scope, Send

UNPACED_PATHS = frozenset({"/health", "/healthz", "/api/health"})


class PacedStarts:
    """ASGI middleware: at most ``per_turn`` HTTP requests start per event-loop turn."""

    def __init__(self, app: ASGIApp, *, per_turn: int) -> None:
        if per_turn < 1:
            raise ValueError(f"per_turn must be at least 1, got {per_turn}")
        self.app = app
        self.per_turn = per_turn
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started_this_turn = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._turn_scheduled = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in UNPACED_PATHS:
            await self._wait_for_turn()
        await self.app(scope, receive, send)

    async def _wait_for_turn(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A new loop (tests, a restarted server): the old one's turns will never run.
            self._loop, self._started_this_turn, self._turn_scheduled = loop, 0, False
            self._waiting.clear()
        self._schedule_next_turn(loop)
        if not self._waiting and self._started_this_turn < self.per_turn:
            self._started_this_turn += 1
            return
        turn: asyncio.Future[None] = loop.create_future()
        self._waiting.append(turn)
        await turn

    def _schedule_next_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        # A callback scheduled now runs in the next turn: that is where the count resets.
        if not self._turn_scheduled:
            self._turn_scheduled = True
            loop.call_soon(self._next_turn, loop)

    def _next_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        self._turn_scheduled = False
        self._started_this_turn = 0
        while self._waiting and self._started_this_turn < self.per_turn:
            turn = self._waiting.popleft()
            if not turn.done():  # a waiter whose client left gives its place away
                turn.set_result(None)
                self._started_this_turn += 1
        if self._waiting:
            self._schedule_next_turn(loop)
