"""`benchmarks.jobs.bench_jobs --broker redis://…` (docs/operations.md), at a small size.

Checks the report's lines and the facts admission guarantees, never the timings.
"""

from __future__ import annotations

import os
import re

import pytest
from tests.support.benchmarks import run_benchmark

REDIS_URL = os.environ.get("IMAJIN_TEST_REDIS_URL")
NUMBER = r"[0-9.]+"
DISPATCH_LINE = re.compile(
    rf"^(local|celery) *: *{NUMBER} jobs/s +submit→start p50 +{NUMBER} ms +p95 +{NUMBER} ms"
)
OVERLOAD_LINE = re.compile(
    r"^overload: (\d+) offered to capacity (\d+): (\d+) accepted, (\d+) rejected with 429 "
    r"\(Retry-After (\d+)–(\d+) s\)"
)


@pytest.mark.slow
@pytest.mark.skipif(not REDIS_URL, reason="needs Redis")
def test_local_celery_and_overload_report() -> None:
    assert REDIS_URL is not None
    args = ["--jobs", "20", "--capacity", "5", "--broker", REDIS_URL]
    lines = run_benchmark("benchmarks.jobs.bench_jobs", *args).splitlines()
    dispatchers = [match[1] for line in lines if (match := DISPATCH_LINE.match(line))]
    assert dispatchers == ["local", "celery"], lines
    assert any(line.endswith("(redis, 1 worker process)") for line in lines), lines
    assert any(line.startswith("ratio   : celery/local throughput") for line in lines), lines

    (overload,) = [match for line in lines if (match := OVERLOAD_LINE.match(line))]
    offered, capacity, accepted, rejected, retry_min, retry_max = map(int, overload.groups())
    assert (offered, capacity) == (50, 5)  # 10 × the queue's capacity, at once
    assert accepted + rejected == offered  # every submit is answered, none lost
    assert accepted >= capacity and rejected > 0  # the queue fills, then refuses
    assert 1 <= retry_min <= retry_max
