"""Import torch and read device facts in the background at server start.

The first request that needs torch (model list, first generation) would otherwise pay for
the import (seconds on a small machine). The thread is a daemon, touches no model and
holds no lock a request needs, so ``/health`` keeps answering while it runs.

A background import still stalls every other thread wherever it holds the GIL for long
(measured with a 1 ms ticker thread: gaps of 200-250 ms): Python's own ``dlopen`` of
torch's native libraries keeps the GIL, and the cyclic garbage collector, triggered over
and over by the hundreds of thousands of objects an import creates, walks them all with
the GIL held. So the libraries are loaded first through libc, a foreign call that lets go
of the GIL, and the collector is paused until the import ends (the largest gap left:
about 30 ms). While it runs, the interpreter also switches threads every 1 ms rather than
5 ms: the event loop takes the GIL back after each socket call, and behind a thread that
computes it would wait the whole interval each time. The imported objects are then frozen
out of the collector's reach: a full collection over them alone took ~230 ms, a stall the
server would otherwise meet now and then for as long as it runs.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import logging
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from imajin.lazy import import_heavy

logger = logging.getLogger(__name__)

# torch's own loader opens libtorch_global_deps with RTLD_GLOBAL and the rest as an
# extension module's dependencies (local): the same flags here, so symbols resolve as usual.
_LIBRARIES = (("libtorch_global_deps.so", True), ("libtorch.so", False))
_SWITCH_S = 0.001
_RTLD_NOW = 0x2
_RTLD_GLOBAL = 0x100


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
    # Only a first import gets the treatment (a test process starts many apps): a freeze
    # keeps whatever is alive then, cyclic garbage included, for the process's lifetime.
    first = "torch" not in sys.modules
    collecting, interval = gc.isenabled(), sys.getswitchinterval()
    if first:
        gc.disable()
        sys.setswitchinterval(_SWITCH_S)
    try:
        if first:
            preload_torch_libraries()
        torch = import_heavy("torch")
        facts.cuda_devices = torch.cuda.device_count() if torch.cuda.is_available() else 0
        facts.mps = bool(torch.backends.mps.is_available())
        import_heavy("diffusers")
    except Exception as error:  # a broken install must not stop the server; requests report it
        facts.error = str(error)
        logger.warning("background torch import failed: %s", error)
    finally:
        # No collection before the freeze: with the collector paused everything is in the
        # youngest generation, so even a young collection would walk it all (the stall again).
        if first:
            gc.freeze()
            if collecting:
                gc.enable()
            sys.setswitchinterval(interval)
        facts.seconds = time.perf_counter() - started
        facts.done.set()
        logger.info(
            "torch ready in %.1fs (%d CUDA device(s), mps=%s)",
            facts.seconds,
            facts.cuda_devices,
            facts.mps,
        )


def preload_torch_libraries() -> list[str]:
    """Load torch's large native libraries without holding the GIL; returns those loaded.

    Only on Linux, and only those present (a CPU build, a CUDA build): anything missing is
    left to torch's own import, which then simply takes longer with the GIL held.
    """
    spec = importlib.util.find_spec("torch")  # finds the package; imports nothing
    if not sys.platform.startswith("linux") or spec is None or spec.origin is None:
        return []
    folder = Path(spec.origin).parent / "lib"
    libc = ctypes.CDLL(None)  # a CDLL function call releases the GIL (a PyDLL one would not)
    dlopen = libc.dlopen
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    loaded = []
    for name, shared in _LIBRARIES:
        path = folder / name
        if path.is_file() and dlopen(bytes(path), _RTLD_NOW | (_RTLD_GLOBAL if shared else 0)):
            loaded.append(name)
    return loaded
