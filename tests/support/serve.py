"""`imajin serve` as a real process, the way a user's shell starts it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import free_port


@dataclass
class ServedProcess:
    """A running server: its URL, and its log file (stdout and stderr together)."""

    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def imajin_serve(*, cwd: Path, environ: dict[str, str]) -> Iterator[ServedProcess]:
    """Start ``imajin serve`` on a free port, wait until ``/healthz`` answers, stop it after.

    The log is a file rather than a pipe, so a chatty server never blocks on a full pipe
    and the test can read everything it wrote once it has stopped.
    """
    port = free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "imajin", "serve", "--port", str(port)],
            env=environ,
            cwd=cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    served = ServedProcess(url=f"http://127.0.0.1:{port}", log=log)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(served.url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(served.output()) from None
                time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=30)
