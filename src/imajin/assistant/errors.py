"""The errors the assistant raises, one family under :class:`AssistantError`.

Each class also derives from the project-wide class that says whose mistake it
is, so ``imajin.api.errors`` maps them to statuses without knowing this package.
"""

from __future__ import annotations

from typing import Any

from imajin.errors import (
    ConfigError,
    ImajinError,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    UpstreamError,
)


class AssistantError(ImajinError):
    """Base of every error raised by :mod:`imajin.assistant`."""


class InstanceConfigMissing(AssistantError, InvalidInput):
    """The request carries no instance configuration and names none the deployer defined."""

    code = "instance_config_missing"


class InvalidInstanceConfig(AssistantError, InvalidInput):
    """An instance configuration breaks the schema; ``field`` names the key."""

    code = "invalid_instance_config"


class PipelineNotFound(AssistantError, NotFound):
    """No pipeline has the requested id."""

    code = "pipeline_not_found"


class AssistantConfigError(AssistantError, ConfigError):
    """Shipped or operator data (chain, pipelines, instances) is invalid; names the file."""

    code = "assistant_config_error"


class StageFailed(AssistantError, UpstreamError):
    """A reasoning stage got no valid answer from its LLM; the request fails, nothing defaults.

    Args:
        message: What failed, naming the stage.
        stage: The stage's name as it appears in ``reasoningChain``.
        cause_code: The code of the LLM error behind it (``llm_output_invalid``, ...).
    """

    code = "reasoning_stage_failed"

    def __init__(self, message: str, *, stage: str, cause_code: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.cause_code = cause_code

    def to_dict(self) -> dict[str, Any]:
        """The HTTP error object, with ``stage`` and ``cause``."""
        return {**super().to_dict(), "stage": self.stage, "cause": self.cause_code}


class StageUnavailable(StageFailed, ServiceUnavailable):
    """As :class:`StageFailed`, but the LLM could not be reached at all (HTTP 503)."""

    code = "reasoning_stage_unavailable"


class ExpansionBlocked(AssistantError, UpstreamError):
    """An LLM-written prompt was hard-blocked by the content policy, and so was its redo.

    The caller's inputs passed the policy, so the failure is the model's (HTTP 502).

    Args:
        message: Which prompt was blocked and why.
        stage: The stage that wrote it.
        reason: The policy's reason code for the last block.
    """

    code = "expansion_blocked"

    def __init__(self, message: str, *, stage: str, reason: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.reason = reason

    def to_dict(self) -> dict[str, Any]:
        """The HTTP error object, with ``stage`` and ``reason``."""
        return {**super().to_dict(), "stage": self.stage, "reason": self.reason}


class RuleOneViolation(AssistantError):
    """A prompt about to be sent to an LLM breaks SPEC §4.3 rule 1 (development mode only).

    This is a defect in imajin or in operator data, never the caller's mistake (HTTP 500).

    Args:
        message: Every finding, one per line.
        findings: What matched, one entry per finding.
    """

    code = "rule_one_violation"

    def __init__(self, message: str, *, findings: list[str]) -> None:
        super().__init__(message)
        self.findings = findings
