"""The blocking client: :class:`ImajinClient`."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import TypeVar

import httpx

from imajin.client.call import Call, Stream
from imajin.client.endpoints import Endpoints, SyncSender
from imajin.client.errors import ImajinAPIError, ImajinConnectionError
from imajin.client.options import ClientOptions
from imajin.client.sse import EventDecoder
from imajin.contracts.events import EventPublic

__all__ = ["ImajinClient"]

T = TypeVar("T")


class ImajinClient(Endpoints, SyncSender):
    """A typed client for an imajin server; use it as a context manager, or call :meth:`close`.

    Every endpoint is a method (see :class:`~imajin.client.endpoints.Endpoints`)::

        with ImajinClient("http://127.0.0.1:8000", api_key=key) as imajin:
            variation = imajin.create_variation({"name": "fox", "generation": {"prompt": "a fox"}})

    Args:
        base_url: The server, ``http://127.0.0.1:8000``.
        api_key: Sent as ``Authorization: Bearer <key>`` when the server requires keys.
        timeout: Seconds per request; analyze-context on a CPU model can take minutes.
        transport: An httpx transport in place of the network (``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        options = ClientOptions(base_url=base_url, api_key=api_key, timeout=timeout)
        self._http = httpx.Client(**options.httpx_arguments(), transport=transport)

    def __enter__(self) -> ImajinClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def send(self, call: Call[T]) -> T:
        """Send one :class:`~imajin.client.calls.Call` and parse its answer.

        Raises:
            ImajinAPIError: The server answered with an error.
            ImajinConnectionError: The server could not be reached in time.
        """
        try:
            response = self._http.request(
                call.method,
                call.path,
                json=call.json,
                params=call.params,
                files=call.files,
                data=call.data,
            )
        except httpx.TransportError as error:
            raise ImajinConnectionError(f"{call.method} {call.path} failed: {error}") from error
        return call.result(response)

    def stream(self, stream: Stream) -> Iterator[EventPublic]:
        """Open a server-sent event stream and yield its events until it ends.

        Raises:
            ImajinAPIError: The server refused the stream (unknown job, no access).
            ImajinConnectionError: The server could not be reached, or the stream broke.
        """
        decoder = EventDecoder()
        try:
            with self._http.stream(
                "GET", stream.path, params=stream.params, headers=stream.headers
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise ImajinAPIError.from_response(response)
                for line in response.iter_lines():
                    event = decoder.feed(line)
                    if event is not None:
                        yield event
        except httpx.TransportError as error:
            raise ImajinConnectionError(f"GET {stream.path} failed: {error}") from error
