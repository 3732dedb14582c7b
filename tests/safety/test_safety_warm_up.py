"""Cold start: the policy regexes are compiled once, however many threads ask at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

import imajin.safety
from imajin.safety import check_prompt, policy, warm_up
from imajin.safety.normalize import compile_terms


@pytest.fixture
def counted_compiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    calls: list[int] = []

    def slow_compile(terms: object) -> object:
        calls.append(1)
        time.sleep(0.01)  # widen the window in which a second thread could miss the cache
        return compile_terms(terms)  # type: ignore[arg-type]

    monkeypatch.setattr(policy, "compile_terms", slow_compile)
    policy._matchers.reset()
    yield calls
    policy._matchers.reset()


def _burst(threads: int) -> list[bool]:
    barrier = threading.Barrier(threads)
    results: list[bool] = []

    def submit() -> None:
        barrier.wait()
        results.append(check_prompt("a lighthouse at dusk").blocked)

    workers = [threading.Thread(target=submit) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def test_a_concurrent_first_use_compiles_once(counted_compiles: list[int]) -> None:
    check_prompt("a lighthouse at dusk")
    per_build = len(counted_compiles)
    assert per_build > 0
    policy._matchers.reset()
    counted_compiles.clear()
    results = _burst(40)
    assert results == [False] * 40
    assert len(counted_compiles) == per_build


def test_warm_up_compiles_before_the_first_check(counted_compiles: list[int]) -> None:
    warm_up()
    compiled = len(counted_compiles)
    assert compiled > 0
    warm_up()
    check_prompt("a lighthouse at dusk")
    assert len(counted_compiles) == compiled


def test_warm_up_is_exported() -> None:
    assert "warm_up" in imajin.safety.__all__
