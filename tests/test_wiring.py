"""The composition root builds a whole platform without loading the heavy ML stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_building_the_platform_does_not_import_torch(tmp_path: Path) -> None:
    # CLI commands like `imajin keys list` build the platform; torch costs seconds to import
    # and is only needed when the first generation job runs.
    script = (
        "import sys\n"
        "from imajin.config.loader import load_settings\n"
        "from imajin.wiring import build_platform\n"
        "platform = build_platform(load_settings())\n"
        "platform.close()\n"
        "heavy = sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "IMAJIN_DATA_DIR": str(tmp_path / "data")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == ""
