"""The background torch import at server start."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import gc, sys
import imajin.api.app
from imajin.engine.warmup import start_torch_warmup
before = "torch" in sys.modules
interval = sys.getswitchinterval()
facts = start_torch_warmup()
facts.done.wait(300)
print(before, "torch" in sys.modules, facts.error, facts.seconds > 0)
# The warm-up pauses the collector and shortens the switch interval only while it runs,
# and leaves what it imported frozen out of later collections.
frozen = gc.get_freeze_count()
print(gc.isenabled(), sys.getswitchinterval() == interval, frozen > 0)
# A later start (torch already imported) freezes nothing more.
start_torch_warmup().done.wait(300)
print(gc.get_freeze_count() == frozen)
"""

PRELOAD = """
import sys
from pathlib import Path
from imajin.engine.warmup import preload_torch_libraries
loaded = preload_torch_libraries()
maps = Path("/proc/self/maps").read_text()
print("torch" in sys.modules, ",".join(loaded), all(f"/{name}" in maps for name in loaded))
"""


def _run(script: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=400, check=True
    )
    return done.stdout.split()


def test_the_app_module_leaves_torch_to_the_background_thread() -> None:
    assert _run(SCRIPT) == ["False", "True", "None", "True", "True", "True", "True", "True"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the preload is Linux-only")
def test_torch_libraries_are_loaded_before_torch_is_imported() -> None:
    imported, loaded, mapped = _run(PRELOAD)
    assert imported == "False"
    assert "libtorch.so" in loaded.split(",")
    assert mapped == "True"
