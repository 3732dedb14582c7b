"""The imaging settings section: defaults, bounds, and the master-quality rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from imajin.imaging import ImagingSettings
from imajin.imaging.render import resolve_threads


def test_defaults() -> None:
    settings = ImagingSettings()
    assert settings.model_dump() == {
        "webp_quality": 85,
        "master_quality": 92,
        "webp_effort": 4,
        "safe_zone": 0.7,
        "threads": 0,
    }


@pytest.mark.parametrize(
    "values",
    [
        {"webp_quality": 0},
        {"webp_effort": 7},
        {"safe_zone": 0.5},
        {"safe_zone": 0.85},
        {"webp_quality": 90, "master_quality": 80},
        {"unknown_key": 1},
    ],
)
def test_unsafe_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ImagingSettings.model_validate(values)


def test_zero_threads_means_one_per_core() -> None:
    assert resolve_threads(0) >= 1
    assert resolve_threads(3) == 3
