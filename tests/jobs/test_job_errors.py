"""How a job records the error it failed with: its code, message and detail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imajin.errors import ImajinError, InvalidInput, Overloaded
from imajin.jobs.models import job_error_of


def test_the_detail_is_the_rest_of_the_http_body() -> None:
    error = job_error_of(InvalidInput("`width` must be a multiple of 8.", field="width"))
    assert (error.code, error.message) == ("invalid_input", "`width` must be a multiple of 8.")
    assert error.detail == {"field": "width"}
    assert job_error_of(Overloaded("Queue full.", retry_after=3)).detail == {"retryAfter": 3}
    assert job_error_of(ImajinError("Plain.")).detail is None


class _WithAPath(ImajinError):
    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "where": Path("outputs/a.png")}


def test_a_value_json_cannot_hold_is_kept_as_its_text() -> None:
    # The detail is stored as JSON with the job's final state; it must never stop that write.
    assert job_error_of(_WithAPath("Broken.")).detail == {"where": "outputs/a.png"}
