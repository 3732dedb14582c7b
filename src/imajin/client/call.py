"""What a request is (:class:`Call`, :class:`Stream`) and the helpers that build one.

The endpoints themselves are in :mod:`imajin.client.calls` and its ``calls_*`` modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from imajin.client.errors import ImajinAPIError

__all__ = [
    "Call",
    "Query",
    "Stream",
    "body",
    "json_as",
    "no_content",
    "raw_bytes",
    "segment",
    "validated",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

Query = dict[str, str | int | float | bool | list[str]]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how to read its successful answer.

    Attributes:
        method: The HTTP method.
        path: The path, its segments already escaped.
        parse: Reads a successful response into the result.
        json: The JSON body, if any.
        files: A multipart body's files, ``{field: (file name, bytes, content type)}``.
        data: A multipart body's text fields (sent with ``files``).
        params: Query parameters; None values are left out before sending.
        ok: The statuses that count as success.
    """

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    json: dict[str, Any] | None = None
    params: Query = field(default_factory=dict)
    ok: tuple[int, ...] = (200,)
    files: dict[str, tuple[str, bytes, str]] | None = None
    data: dict[str, str] | None = None

    def result(self, response: httpx.Response) -> T:
        """The parsed answer.

        Raises:
            ImajinAPIError: The server answered with another status.
        """
        if response.status_code not in self.ok:
            raise ImajinAPIError.from_response(response)
        return self.parse(response)


@dataclass(frozen=True)
class Stream:
    """A server-sent event stream to open: ``GET path``, resumable after an event id."""

    path: str
    params: Query = field(default_factory=dict)
    last_event_id: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        """``Accept``, and ``Last-Event-ID`` when resuming."""
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        return headers


def segment(value: str) -> str:
    """``value`` escaped as one path segment (a ``/`` in it cannot reach another route)."""
    return quote(value, safe="")


def json_as(kind: type[T]) -> Callable[[httpx.Response], T]:
    """A reader that validates the JSON body as ``kind`` (a model, ``list[Model]``, ...)."""
    adapter = TypeAdapter(kind)

    def parse(response: httpx.Response) -> T:
        return adapter.validate_python(response.json())

    return parse


def raw_bytes(response: httpx.Response) -> bytes:
    """The body as bytes (images, sidecars)."""
    return response.content


def no_content(_response: httpx.Response) -> None:
    """For 204 answers."""


def body(model: BaseModel) -> dict[str, Any]:
    """A request model as JSON: the fields the caller set, camelCase where the contract is."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def validated(kind: type[M], value: M | Mapping[str, Any]) -> M:
    """``value`` as ``kind``: a model passes, a mapping is validated here, before sending.

    Raises:
        pydantic.ValidationError: The mapping breaks the contract.
    """
    return value if isinstance(value, kind) else kind.model_validate(value)
