"""The background health checker: results kept current, failures and hangs reported."""

from __future__ import annotations

import time
from pathlib import Path

from imajin.health import HealthMonitor
from imajin.storage.local import LocalFileStorage, StorageHealth


def storage_health(tmp_path: Path) -> StorageHealth:
    return LocalFileStorage(tmp_path).health()


def test_start_checks_once_so_the_first_answer_is_accurate(tmp_path: Path) -> None:
    calls: list[str] = []

    def ping() -> bool:
        calls.append("ping")
        return False

    monitor = HealthMonitor(
        ping_database=ping, check_storage=lambda: storage_health(tmp_path), interval_s=60
    )
    monitor.start()
    try:
        assert calls == ["ping"]
        snapshot = monitor.current()
        assert calls == ["ping"]  # reading does not check again
        assert not snapshot.database_ok and snapshot.storage.writable
        assert not snapshot.healthy
    finally:
        monitor.stop()


def test_results_follow_changes_in_the_background(tmp_path: Path) -> None:
    state = {"up": True}
    monitor = HealthMonitor(
        ping_database=lambda: state["up"],
        check_storage=lambda: storage_health(tmp_path),
        interval_s=0.02,
    )
    monitor.start()
    try:
        assert monitor.current().healthy
        state["up"] = False
        deadline = time.monotonic() + 5
        while monitor.current().database_ok:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        monitor.stop()


def test_a_check_that_raises_reports_unavailable(tmp_path: Path) -> None:
    def broken() -> bool:
        raise RuntimeError("driver bug")

    monitor = HealthMonitor(ping_database=broken, check_storage=lambda: storage_health(tmp_path))
    assert monitor.current().database_ok is False  # never started: checks inline once


def test_a_hung_check_makes_its_result_stale_and_failing(tmp_path: Path) -> None:
    monitor = HealthMonitor(
        ping_database=lambda: True,
        check_storage=lambda: storage_health(tmp_path),
        stale_after_s=0.05,
    )
    monitor.check()
    assert monitor.current().healthy
    time.sleep(0.1)  # no checker thread: as if every check since had hung
    stale = monitor.current()
    assert not stale.database_ok and not stale.storage.writable and not stale.healthy
