"""The errors the LLM layer raises, one family under :class:`LLMError`.

Each class also derives from the project-wide class that says whose mistake it
is, so the HTTP layer maps them without knowing this package: caller mistakes
are :class:`~imajin.errors.UserError`, backend failures
:class:`~imajin.errors.UpstreamError`.
"""

from __future__ import annotations

from imajin.errors import (
    ConfigError,
    ImajinError,
    InvalidInput,
    ServiceUnavailable,
    UpstreamError,
    UserError,
)


class LLMError(ImajinError):
    """Base of every error raised by :mod:`imajin.llm`; catch this to handle them all."""


class UnknownModel(LLMError, InvalidInput):
    """A model id names no configured model; the message lists the known ids."""

    code = "unknown_llm_model"


class LLMConfigError(LLMError, ConfigError):
    """The ``llm`` configuration cannot work: bad options, a missing key; raised at start-up."""

    code = "llm_config_error"


class UnknownBackend(LLMConfigError):
    """A model definition names a backend nobody registered."""

    code = "unknown_llm_backend"


class BackendNotInstalled(LLMConfigError):
    """A backend's optional dependency is missing; the message names the extra to install."""

    code = "llm_backend_not_installed"


class ImagesNotSupported(LLMConfigError):
    """Images were sent to a model without the vision capability; name a vision model."""

    code = "llm_no_vision"


class InvalidSchema(LLMError, InvalidInput):
    """A JSON schema the backend cannot turn into constrained decoding."""

    code = "invalid_llm_schema"


class LLMRequestRejected(LLMError, UserError):
    """The LLM server refused the request as malformed (HTTP 4xx); retrying will not help.

    Args:
        message: What was refused and how to fix it.
        status: The HTTP status the server answered.
        body: The server's response body, verbatim (truncated to a few KiB).
    """

    code = "llm_request_rejected"

    def __init__(self, message: str, *, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class LLMUpstreamError(LLMError, UpstreamError):
    """The LLM backend failed (HTTP 5xx, a protocol error, a crash).

    Args:
        message: What failed and what to check.
        status: The HTTP status, when the backend speaks HTTP.
        body: The response body, when there was one.
        retryable: Whether the same request may succeed if sent again.
    """

    code = "llm_upstream_error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: str | None = None,
        retryable: bool = True,
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.retryable = retryable


class LLMTimeout(LLMUpstreamError):
    """The backend did not answer within the configured timeout."""

    code = "llm_timeout"


class LLMUnavailable(LLMUpstreamError, ServiceUnavailable):
    """The backend cannot be reached at all (connection refused, DNS failure)."""

    code = "llm_unavailable"


class LLMOutputError(LLMUpstreamError):
    """The model's answers never validated against the requested output type.

    Raised after the bounded output retries, each of which fed the problem back to the model.

    Args:
        message: The output type, the attempts made and the last validation problem.
        attempts: How many answers were asked for.
        output: The last answer, verbatim.
        problem: The last validation problem, as fed back to the model.
    """

    code = "llm_output_invalid"

    def __init__(self, message: str, *, attempts: int, output: str, problem: str) -> None:
        super().__init__(message, retryable=False)
        self.attempts = attempts
        self.output = output
        self.problem = problem


class ScriptExhausted(LLMError):
    """A :class:`~imajin.llm.scripted.ScriptedBackend` was asked more than it was scripted for."""

    code = "llm_script_exhausted"
