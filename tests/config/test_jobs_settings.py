"""Cross-field rules of the ``jobs:`` section, as ``load_settings`` applies them."""

from __future__ import annotations

from pathlib import Path

import pytest

from imajin.config.loader import load_settings
from imajin.errors import ConfigError


@pytest.mark.parametrize(
    ("window_ms", "heartbeat_s", "stale_s"),
    [
        ("10000", "2", "5"),  # the window alone outlasts stale_after_s
        ("2500", "0.5", "3"),  # window plus one heartbeat interval reaches it exactly
        ("0", "30", "30"),  # no window: a heartbeat interval that long is late already
    ],
)
def test_a_batch_window_a_gathered_job_could_go_stale_in_is_refused(
    tmp_path: Path, window_ms: str, heartbeat_s: str, stale_s: str
) -> None:
    environ = {
        "IMAJIN_JOBS__BATCH_WINDOW_MS": window_ms,
        "IMAJIN_JOBS__HEARTBEAT_INTERVAL_S": heartbeat_s,
        "IMAJIN_JOBS__STALE_AFTER_S": stale_s,
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ, cwd=tmp_path)
    message = caught.value.message
    for key in ("jobs.batch_window_ms", "jobs.heartbeat_interval_s", "jobs.stale_after_s"):
        assert key in message
    assert "must stay below" in message
    assert "environment variable IMAJIN_JOBS__" in message  # where it was set
    assert caught.value.field == "jobs"

    # Just inside the rule is accepted.
    environ["IMAJIN_JOBS__STALE_AFTER_S"] = str(int(window_ms) / 1000 + float(heartbeat_s) + 0.1)
    assert load_settings(environ=environ, cwd=tmp_path).jobs.batch_window_ms == int(window_ms)
