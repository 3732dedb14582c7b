"""ASGI middleware: request ids, access log, metrics, request body size limit."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imajin.api.metrics import HttpMetrics
from imajin.logs import request_id_var

logger = logging.getLogger("imajin.access")
errors_logger = logging.getLogger("imajin.api.errors")

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class RequestContextMiddleware:
    """Wraps every HTTP request.

    - takes a well-formed incoming ``X-Request-ID`` or makes one, and echoes it;
    - refuses bodies over ``max_body_bytes`` with 413, by header or while streaming;
    - records one access-log line and the Prometheus metrics per request.
    """

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "started": False, "rejected": False}

        async def send_with_id(message: Message) -> None:
            if state["rejected"]:
                return  # we already answered 413; drop whatever the app still sends
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        async def reject() -> None:
            if not state["started"]:
                await self._reject_too_large(send_with_id)
            state["rejected"] = True

        try:
            if _declared_length(scope) > self.max_body_bytes:
                await reject()
            else:
                await self.app(scope, self._limited(receive, reject), send_with_id)
        except Exception:  # the one place an unexpected error is logged and answered
            # Answered here, inside the request id's scope: the body and header carry the id,
            # the log line shows it, and nothing re-raises to log the traceback a second time.
            errors_logger.exception("Unhandled error")
            if not state["started"]:
                await _send_json(send_with_id, 500, internal_error_body())
        finally:
            self._record(scope, state["status"], time.perf_counter() - started)
            request_id_var.reset(token)

    def _limited(self, receive: Receive, reject: Callable[[], Awaitable[None]]) -> Receive:
        """Count body bytes; past the limit, answer 413 and tell the app the client left."""
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    await reject()
                    return {"type": "http.disconnect"}
            return message

        return limited_receive

    async def _reject_too_large(self, send: Send) -> None:
        error = {
            "code": "payload_too_large",
            "message": f"Request body is over the limit of {self.max_body_bytes} bytes "
            "(server.max_body_bytes).",
        }
        await _send_json(send, 413, error)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "-")
        self.metrics.observe(method=method, route=template, status=status, seconds=seconds)
        logger.info(
            "%s %s %d %.1fms",
            method,
            scope.get("path", ""),
            status,
            seconds * 1000,
            extra={"status": status, "duration_ms": round(seconds * 1000, 2)},
        )


def internal_error_body() -> dict[str, str]:
    """The body of every 500: no detail, the request id points to the log line."""
    return {
        "code": "internal_error",
        "message": "Internal server error; the request id identifies it in the server log.",
    }


async def _send_json(send: Send, status: int, error: dict[str, Any]) -> None:
    body = json.dumps({"error": {**error, "requestId": request_id_var.get()}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER.encode():
            candidate: str = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0
