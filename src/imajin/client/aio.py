"""The asyncio client: :class:`AsyncImajinClient`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import TypeVar

import httpx

from imajin.client.call import Call, Stream
from imajin.client.endpoints import AsyncSender, Endpoints
from imajin.client.errors import ImajinAPIError, ImajinConnectionError
from imajin.client.options import ClientOptions
from imajin.client.sse import EventDecoder
from imajin.contracts.events import EventPublic

__all__ = ["AsyncImajinClient"]

T = TypeVar("T")


class AsyncImajinClient(Endpoints, AsyncSender):
    """The async twin of :class:`~imajin.client.ImajinClient`: ``async with``, or :meth:`aclose`.

    It has the same methods; each returns an awaitable (streams: an async iterator).

    Args:
        base_url: The server, ``http://127.0.0.1:8000``.
        api_key: Sent as ``Authorization: Bearer <key>`` when the server requires keys.
        timeout: Seconds per request; analyze-context on a CPU model can take minutes.
        transport: An httpx transport in place of the network (``httpx.ASGITransport``
            serves an app in this process).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 300.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        options = ClientOptions(base_url=base_url, api_key=api_key, timeout=timeout)
        self._http = httpx.AsyncClient(**options.httpx_arguments(), transport=transport)

    async def __aenter__(self) -> AsyncImajinClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def send(self, call: Call[T]) -> T:
        """Send one :class:`~imajin.client.calls.Call` and parse its answer.

        Raises:
            ImajinAPIError: The server answered with an error.
            ImajinConnectionError: The server could not be reached in time.
        """
        try:
            response = await self._http.request(
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

    async def stream(self, stream: Stream) -> AsyncIterator[EventPublic]:
        """Open a server-sent event stream and yield its events until it ends.

        Raises:
            ImajinAPIError: The server refused the stream (unknown job, no access).
            ImajinConnectionError: The server could not be reached, or the stream broke.
        """
        decoder = EventDecoder()
        try:
            async with self._http.stream(
                "GET", stream.path, params=stream.params, headers=stream.headers
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise ImajinAPIError.from_response(response)
                async for line in response.aiter_lines():
                    event = decoder.feed(line)
                    if event is not None:
                        yield event
        except httpx.TransportError as error:
            raise ImajinConnectionError(f"GET {stream.path} failed: {error}") from error
