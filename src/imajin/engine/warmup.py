"""Import torch and read device facts in the background at server start.

The first request that needs torch (model list, first generation) would otherwise pay for
the import (seconds on a small machine). The thread is a daemon, touches no model and
holds no lock a request needs, so ``/health`` keeps answering while it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from imajin.lazy import import_heavy

logger = logging.getLogger(__name__)


@dataclass
class DeviceFacts:
    """What the warm-up found (filled in by the thread; ``done`` is set when finished)."""

    done: threading.Event
    cuda_devices: int = 0
    mps: bool = False
    seconds: float = 0.0
    error: str | None = None


def start_torch_warmup() -> DeviceFacts:
    """Start the background import; returns the facts object the thread fills in."""
    facts = DeviceFacts(done=threading.Event())
    threading.Thread(target=_warm, args=(facts,), name="imajin-torch-warmup", daemon=True).start()
    return facts


def _warm(facts: DeviceFacts) -> None:
    started = time.perf_counter()
    try:
        torch = import_heavy("torch")
        facts.cuda_devices = torch.cuda.device_count() if torch.cuda.is_available() else 0
        facts.mps = bool(torch.backends.mps.is_available())
        import_heavy("diffusers")
    except Exception as error:  # a broken install must not stop the server; requests report it
        facts.error = str(error)
        logger.warning("background torch import failed: %s", error)
    finally:
        facts.seconds = time.perf_counter() - started
        facts.done.set()
        logger.info(
            "torch ready in %.1fs (%d CUDA device(s), mps=%s)",
            facts.seconds,
            facts.cuda_devices,
            facts.mps,
        )
