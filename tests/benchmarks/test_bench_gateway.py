"""`benchmarks.gateway.bench_gateway --broker redis://…` (docs/operations.md), at a small size.

Checks the report's lines (every stage, both dispatchers, the ratio, the output check),
never the timings.
"""

from __future__ import annotations

import os
import re

import pytest
from tests.support.benchmarks import run_benchmark

REDIS_URL = os.environ.get("IMAJIN_TEST_REDIS_URL")
STAGES = ("shorten", "expand", "generate", "check", "caption", "request")
PAIR = r" +[0-9.]+/ *[0-9.]+"
STAGES_LINE = re.compile(
    r"^(local|celery) *: p50/p95 ms  "
    + "  ".join(f"{stage}{PAIR}" for stage in STAGES)
    + r" +[0-9.]+ req/s$"
)


@pytest.mark.slow
@pytest.mark.skipif(not REDIS_URL, reason="needs Redis")
def test_stage_latencies_through_local_and_celery() -> None:
    assert REDIS_URL is not None
    args = ["--requests", "1", "--concurrency", "1", "--check-images", "1", "--broker", REDIS_URL]
    lines = run_benchmark("benchmarks.gateway.bench_gateway", *args, timeout_s=280).splitlines()
    dispatchers = [match[1] for line in lines if (match := STAGES_LINE.match(line))]
    assert dispatchers == ["local", "celery"], lines
    assert any(line.startswith("ratio  : celery/local requests/s") for line in lines), lines
    (check,) = [line for line in lines if line.startswith("check  : ")]
    assert "per 64 px image" in check and "per 1024 px image" in check
