"""The error hierarchy every imajin layer raises.

Errors split by whose mistake it is: a :class:`UserError` means the caller can
fix the request; an :class:`UpstreamError` means something imajin depends on
(an LLM server, a broker) failed. Each carries the data a response needs; the
HTTP layer maps classes to status codes in one place (``imajin.api.errors``).
"""

from __future__ import annotations

from typing import Any


class ImajinError(Exception):
    """Base of every error imajin raises on purpose.

    Args:
        message: What went wrong and, where possible, how to fix it.
        field: The input field at fault (dotted path), when there is one.
        code: A stable machine-readable code; defaults to the class's ``code``.
    """

    code: str = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        """The ``error`` object of an HTTP error body."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class ConfigError(ImajinError):
    """The configuration is invalid; raised at start-up, naming the key."""

    code = "config_error"


class UserError(ImajinError):
    """The caller's mistake: the request can be fixed and sent again."""

    code = "bad_request"


class InvalidInput(UserError):
    """A value breaks a rule; ``field`` names it and the message the rule."""

    code = "invalid_input"


class NotFound(UserError):
    """The named resource does not exist."""

    code = "not_found"


class Conflict(UserError):
    """The request conflicts with the resource's current state."""

    code = "conflict"


class PolicyViolation(UserError):
    """The content policy hard-blocks the request; ``reason`` is a stable code."""

    code = "policy_violation"

    def __init__(self, message: str, *, reason: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.reason = reason

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["reason"] = self.reason
        return body


class Unauthorized(UserError):
    """No valid API key was sent."""

    code = "unauthorized"


class Forbidden(UserError):
    """The API key is valid but lacks the scope the route needs."""

    code = "forbidden"


class PayloadTooLarge(UserError):
    """The request body is over the configured limit."""

    code = "payload_too_large"


class Overloaded(ImajinError):
    """A bounded queue is full; retry after ``retry_after`` seconds."""

    code = "queue_full"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["retryAfter"] = self.retry_after
        return body


class UpstreamError(ImajinError):
    """A service imajin depends on failed (``status`` and ``body`` when HTTP)."""

    code = "upstream_error"

    def __init__(self, message: str, *, status: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class UpstreamTimeout(UpstreamError):
    """A dependency did not answer in time (HTTP 504)."""

    code = "upstream_timeout"


class ServiceUnavailable(UpstreamError):
    """A dependency is unreachable right now (broker, database); try again later."""

    code = "service_unavailable"
