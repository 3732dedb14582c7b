"""`make bench-engine` (README, docs/operations.md): its recipe, run at a small size.

The make target installs first (never from the suite), then runs the benchmark module;
this runs that module with 2 steps and 1 repeat and checks the report, never the timings.
"""

from __future__ import annotations

import re

import pytest
from tests.support.benchmarks import ROOT, run_benchmark

MODULE = "benchmarks.engine.bench_engine"
ROW = re.compile(
    r"^(tiny-sd15|tiny-sdxl) +(\d+)(?: +[0-9.]+){4} +[+-][0-9.]+% +[+-][0-9.]+% +(\S+)$"
)


def test_make_bench_engine_runs_this_module() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nbench-engine:", 1)[1].split("\n\n", 1)[0]
    assert f"$(BIN)/python -m {MODULE}\n" in recipe + "\n"


@pytest.mark.slow
def test_engine_and_plain_diffusers_make_the_same_pixels() -> None:
    lines = run_benchmark(MODULE, "--steps", "2", "--repeats", "1").splitlines()
    assert "2 steps, 1 repeats" in lines[0]
    rows = {match[1]: match for line in lines if (match := ROW.match(line))}
    assert sorted(rows) == ["tiny-sd15", "tiny-sdxl"], lines
    assert (rows["tiny-sd15"][2], rows["tiny-sdxl"][2]) == ("64", "128")
    # Same weights, scheduler and seed on both sides: the engine adds no hidden work.
    assert {match[3] for match in rows.values()} == {"yes"}
