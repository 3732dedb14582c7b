"""What the client raises: the server's error body as an exception, or a transport failure."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["ImajinAPIError", "ImajinClientError", "ImajinConnectionError"]


class ImajinClientError(Exception):
    """Base of every error :mod:`imajin.client` raises."""


class ImajinConnectionError(ImajinClientError):
    """The server could not be reached, or did not answer in time."""


class ImajinAPIError(ImajinClientError):
    """The server answered with an error status.

    Args:
        status: The HTTP status.
        code: The server's stable error code (``instance_config_missing``, ...).
        message: The server's message, which says how to fix the request.
        field: The request field at fault, when the server names one.
        request_id: The server's request id, to find the request in its log.
        details: Every other key of the error object (``stage``, ``reason``, ...).
        retry_after: Seconds to wait before retrying, for 429 and 503 answers.
    """

    def __init__(
        self,
        *,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.request_id = request_id
        self.details = details or {}
        self.retry_after = retry_after

    @classmethod
    def from_response(cls, response: httpx.Response) -> ImajinAPIError:
        """The error an imajin error response describes (any other body is kept as text)."""
        try:
            error = response.json().get("error")
        except ValueError:
            error = None
        if not isinstance(error, dict):
            error = {"code": "http_error", "message": response.text[:500] or response.reason_phrase}
        known = {"code", "message", "field", "requestId"}
        retry_after = response.headers.get("Retry-After")
        return cls(
            status=response.status_code,
            code=str(error.get("code", "http_error")),
            message=str(error.get("message", "")),
            field=error.get("field"),
            request_id=error.get("requestId"),
            details={key: value for key, value in error.items() if key not in known},
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        )
