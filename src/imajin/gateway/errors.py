"""Gateway errors: the stage that failed is in the code, so a job's error maps back to HTTP."""

from __future__ import annotations

from imajin.errors import PolicyViolation, ServiceUnavailable, UpstreamTimeout

STAGES = ("shorten", "expand", "generate", "check", "caption")


class OutputBlocked(PolicyViolation):
    """The output classifier refused the image twice; no image is returned or kept."""

    code = "output_blocked"

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="output_blocked", field="image")


class StageUnavailable(ServiceUnavailable):
    """An LLM step could not be done (503); the message names the stage."""

    code = "llm_unavailable"

    def __init__(self, message: str, *, stage: str | None = None) -> None:
        super().__init__(message)
        self.stage = stage


class StageTimeout(UpstreamTimeout):
    """An LLM step timed out (504); the message names the stage."""

    code = "llm_timeout"

    def __init__(self, message: str, *, stage: str | None = None) -> None:
        super().__init__(message)
        self.stage = stage
