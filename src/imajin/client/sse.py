"""Reading a server-sent event stream line by line into events."""

from __future__ import annotations

import json

from imajin.contracts.events import EventPublic

__all__ = ["EventDecoder"]


class EventDecoder:
    """Feed it the stream's lines; it returns an event each time a message ends.

    Comments (``: keep-alive``) and messages without data are skipped; the event is
    read from the ``data`` field (the server repeats ``id`` and ``event`` in it).
    """

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> EventPublic | None:
        """The event ``line`` completes (an empty line ends a message), or None."""
        if line == "":
            data, self._data = self._data, []
            if not data:
                return None
            return EventPublic.model_validate(json.loads("\n".join(data)))
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value.removeprefix(" "))
        return None
