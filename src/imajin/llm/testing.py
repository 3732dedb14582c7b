"""A local fake of an OpenAI-compatible server, for testing the HTTP backend end to end.

``FakeOpenAIServer`` is a real uvicorn server on a loopback port, in a background
thread. It answers ``POST /v1/chat/completions`` from a queue of :class:`FakeReply`
(an answer, an HTTP error, a delay), records every request it receives (image parts
included), and once the queue is empty answers with ``respond(body)`` when given, else
with the minimal JSON the requested schema allows.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from imajin.llm.scripted import minimal_instance

_START_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class FakeReply:
    """One scripted reply of the fake server.

    Args:
        content: The assistant message; None for the schema-minimal answer.
        status: HTTP status; anything but 200 sends ``body`` as the error body.
        body: The error body (default: an OpenAI-style error object).
        delay_s: Seconds to wait before answering (to provoke client timeouts).
        finish_reason: ``stop``, or ``length`` to play an answer cut off at max_tokens.
    """

    content: str | None = None
    status: int = 200
    body: str | None = None
    delay_s: float = 0.0
    finish_reason: str = "stop"


@dataclass(frozen=True)
class RecordedRequest:
    """A request the fake server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def image_urls(self) -> list[str]:
        """The ``image_url`` URLs of every message's content parts, in order."""
        return [
            part["image_url"]["url"]
            for message in self.body.get("messages", [])
            if isinstance(message.get("content"), list)
            for part in message["content"]
            if part.get("type") == "image_url"
        ]

    @property
    def response_schema(self) -> dict[str, Any] | None:
        """The JSON schema of ``response_format`` (type ``json_schema``), if one was sent."""
        response_format = self.body.get("response_format") or {}
        if response_format.get("type") != "json_schema":
            return None
        schema: dict[str, Any] = response_format["json_schema"]["schema"]
        return schema


class FakeOpenAIServer:
    """A local OpenAI-compatible chat server with scripted replies; use it as a context manager.

    Args:
        replies: Served in order, one per request; afterwards every answer is the default.
        api_key: When set, requests without ``Authorization: Bearer <api_key>`` get HTTP 401.
        respond: Once ``replies`` are used up, answers each request body (e.g. from the
            schema it carries); None for the schema-minimal answer.
    """

    def __init__(
        self,
        replies: Iterable[FakeReply] = (),
        *,
        api_key: str | None = None,
        respond: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.respond = respond
        self.requests: list[RecordedRequest] = []
        self.max_in_flight = 0
        """The most requests the server was answering at one time (concurrency, not speed)."""
        self._in_flight = 0
        self._replies: deque[FakeReply] = deque(replies)
        self._lock = threading.Lock()
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        config = uvicorn.Config(
            self._app(), log_config=None, lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def queue(self, *replies: FakeReply) -> None:
        """Serve ``replies`` next, after any still queued."""
        with self._lock:
            self._replies.extend(replies)

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"fake OpenAI server did not start within {_START_TIMEOUT_S} s")
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat_completions(request: Request) -> Response:
            body = await request.json()
            with self._lock:
                self.requests.append(RecordedRequest(request.url.path, dict(request.headers), body))
                reply = self._replies.popleft() if self._replies else FakeReply()
            if self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}":
                return _error(401, "Incorrect API key provided.")
            if reply.delay_s:
                with self._lock:
                    self._in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self._in_flight)
                try:
                    await asyncio.sleep(reply.delay_s)
                finally:
                    with self._lock:
                        self._in_flight -= 1
            if reply.status != 200:
                if reply.body is not None:
                    return Response(reply.body, status_code=reply.status)
                return _error(reply.status, f"fake failure {reply.status}")
            content = reply.content
            if content is None:
                content = self.respond(body) if self.respond else _default_content(body)
            return JSONResponse(_completion(body, content, reply.finish_reason))

        return app


def schema_answer(**fields: Any) -> Callable[[dict[str, Any]], str]:
    """A ``respond`` for :class:`FakeOpenAIServer`: the schema-minimal answer with ``fields`` set.

    For example ``FakeOpenAIServer(respond=schema_answer(age_band="26_35"))`` answers every
    feature question with an adult age band and the first value of every other field.

    Raises (when called):
        ValueError: The request carries no json_schema, or a field is not in it.
    """

    def respond(body: dict[str, Any]) -> str:
        response_format = body.get("response_format") or {}
        if response_format.get("type") != "json_schema":
            raise ValueError("schema_answer needs a request with a json_schema response_format")
        schema = response_format["json_schema"]["schema"]
        unknown = sorted(set(fields) - set(schema.get("properties", {})))
        if unknown:
            raise ValueError(f"schema_answer fields {unknown} are not in the schema sent")
        return json.dumps({**minimal_instance(schema), **fields})

    return respond


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "fake_error"}}, status_code=status)


def _default_content(body: dict[str, Any]) -> str:
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return json.dumps(minimal_instance(response_format["json_schema"]["schema"]))
    return "ok"


def _completion(body: dict[str, Any], content: str, finish_reason: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }
