"""Reading a server-sent event stream in tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Protocol


class Lines(Protocol):
    """A streamed response: httpx's, or the test client's (its own copy of httpx)."""

    def iter_lines(self) -> Iterator[str]: ...


def read_sse(response: Lines, *, limit: int = 1000) -> list[dict[str, object]]:
    """Parse an SSE stream into [{id, event, data}] until it ends or ``limit`` events."""
    events: list[dict[str, object]] = []
    current: dict[str, object] = {}
    for line in response.iter_lines():
        if line.startswith(":"):
            continue
        if not line:
            if current:
                events.append(current)
                current = {}
                if len(events) >= limit:
                    break
            continue
        key, _, value = line.partition(": ")
        current[key] = json.loads(value) if key == "data" else value
    return events
