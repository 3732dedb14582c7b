"""The overload benchmark, as docs/operations.md shows it, runs end to end (small sizes).

Only what it reports is checked, not its timings: those are the benchmark's to judge
(exit status 1 when missed), and a loaded test machine would make them flaky here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_overload_benchmark_reports_every_phase_paced_and_unpaced() -> None:
    command = [
        sys.executable,
        "-m",
        "benchmarks.api.bench_overload",
        "--unpaced",
        "--submits",
        "40",
        "--streams",
        "5",
    ]
    done = subprocess.run(
        command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert done.returncode in (0, 1), done.stderr
    out = done.stdout
    unpaced, _, paced = out.partition("paced (server.starts_per_turn as configured):")
    assert unpaced.startswith("unpaced") and paced
    for run in (unpaced, paced):
        for phase in ("idle baseline", "cold burst", "warm burst", "5 SSE streams open"):
            row = re.search(rf"^{phase}\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+\s+[\d.]+\s+(\d+)", run, re.M)
            assert row is not None, (phase, run)
            assert row.group(1) == "0", f"/health probes failed during {phase}: {run}"
        # Every submit into the full queue was refused with 429, none failed or hung.
        assert run.count("40 submits in") == 2
        assert run.count("statuses {429: 40}") == 2
        assert re.search(r"/health p99 < 100 ms under load: (met|MISSED)", run)
