"""The background torch import at server start."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import imajin.api.app
from imajin.engine.warmup import start_torch_warmup
before = "torch" in sys.modules
facts = start_torch_warmup()
facts.done.wait(300)
print(before, "torch" in sys.modules, facts.error, facts.seconds > 0)
"""


def test_the_app_module_leaves_torch_to_the_background_thread() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=400, check=True
    )
    assert done.stdout.split() == ["False", "True", "None", "True"]
