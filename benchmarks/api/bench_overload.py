"""Overload benchmark: a burst of submits into a full queue while ``/health`` is probed.

    .venv/bin/python -m benchmarks.api.bench_overload [--submits 300] [--streams 200] [--unpaced]

Starts a real ``imajin serve`` process (its own data dir, no job workers, a queue
bound of one job) and fills the queue with one job. Then, in one run:

- baseline: ``/health`` latency on the idle server;
- cold burst: right after start-up, ``--submits`` concurrent ``POST /api/generate``
  into the full queue; each must be answered 429; ``/health`` is probed meanwhile;
- warm burst: the same again;
- streams: ``--streams`` idle SSE streams held open on ``/api/events`` while
  ``/health`` is probed (each stream used to poll the outbox on its own).

Reports the time until the last submit was answered and ``/health`` p50/p99 per
phase, with the ratio to the idle baseline. ``--unpaced`` first runs the same phases
on a server that lets every request start at once (``server.starts_per_turn`` set
past the burst), the way it ran before paced starts, and prints that for comparison.
Targets (issue 11): every submit answered within 2 s, ``/health`` p99 under 100 ms
(judged on the paced run). Exit status 1 when missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

BURST_TARGET_S = 2.0
HEALTH_P99_TARGET_MS = 100.0
PROBE_EVERY_S = 0.02
PROMPT = {"prompt": "a lighthouse on a cliff at dawn, oil painting"}


@dataclass
class Phase:
    name: str
    health_ms: list[float]
    health_failures: int = 0
    burst_s: float | None = None
    statuses: Counter[int] | None = None
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.health_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    pid: int

    def cpu_s(self) -> float:
        """CPU seconds the server process has used (Linux /proc; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def served(data: Path, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """``imajin serve`` as a subprocess: no workers, so the one admitted job stays queued."""
    port = _free_port()
    env = {
        **os.environ,
        **(extra_env or {}),
        "IMAJIN_DATA_DIR": str(data),
        "IMAJIN_JOBS__WORKERS": "0",
        "IMAJIN_JOBS__DEFAULT_CAPACITY": "1",
        "IMAJIN_LOGGING__LEVEL": "WARNING",
    }
    log_path = data.parent / "serve.log"  # a file, not a pipe: a full pipe blocks the server
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "imajin", "serve", "--port", str(port)],
        env=env,
        cwd=data.parent,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(url + "/health", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(
                        f"imajin serve did not start: {log_path.read_text()}"
                    ) from None
                time.sleep(0.1)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _probe_loop(url: str, stop: Any, results: Any) -> None:
    """In a process of its own: ``/health`` every PROBE_EVERY_S until ``stop`` is set.

    Its own process, so the burst's client work does not delay the probes; sends
    ``(latencies_ms, failures)`` back through ``results``.
    """
    latencies: list[float] = []
    failures = 0
    with httpx.Client(base_url=url, timeout=10) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                if client.get("/health").status_code == 200:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    failures += 1
            except httpx.HTTPError:
                failures += 1
            time.sleep(PROBE_EVERY_S)
    results.send((latencies, failures))


@contextmanager
def probing(url: str, phase: Phase) -> Iterator[None]:
    """``/health`` probed from another process while the block runs; results into ``phase``."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_probe_loop, args=(url, stop, sender))
    process.start()
    try:
        time.sleep(1.0)  # the probe process imports httpx before the block starts
        yield
    finally:
        stop.set()
        phase.health_ms, phase.health_failures = receiver.recv()
        process.join(timeout=30)


async def baseline(url: str, probes: int) -> Phase:
    phase = Phase("idle baseline", [])
    with probing(url, phase):
        await asyncio.sleep(probes * (PROBE_EVERY_S + 0.005))
    return phase


async def burst(server: Server, name: str, submits: int) -> Phase:
    """``submits`` concurrent submits into the full queue, ``/health`` probed meanwhile."""
    url = server.url
    phase = Phase(name, [])
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps(PROMPT).encode()
    with probing(url, phase):
        await asyncio.sleep(0.2)  # a few probes before the burst lands
        started, cpu, client_cpu = time.perf_counter(), server.cpu_s(), time.process_time()
        responses = await asyncio.gather(
            *(raw_post(host, int(port), "/api/generate", body) for _ in range(submits)),
            return_exceptions=True,
        )
        phase.burst_s = time.perf_counter() - started
        phase.server_cpu_s = server.cpu_s() - cpu
        phase.client_cpu_s = time.process_time() - client_cpu
        await asyncio.sleep(0.2)
    phase.statuses = Counter(r if isinstance(r, int) else 0 for r in responses)
    return phase


async def streams(url: str, count: int, seconds: float) -> Phase:
    """``count`` SSE streams held open while ``/health`` is probed for ``seconds``."""
    phase = Phase(f"{count} SSE streams open", [])
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=None) as listener:
        opened = 0

        async def hold(stop: asyncio.Event) -> None:
            nonlocal opened
            async with listener.stream("GET", "/api/events") as response:
                response.raise_for_status()
                opened += 1
                await stop.wait()

        stop = asyncio.Event()
        holders = [asyncio.create_task(hold(stop)) for _ in range(count)]
        deadline = time.monotonic() + 30
        while opened < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        with probing(url, phase):
            await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*holders, return_exceptions=True)
    return phase


async def raw_post(host: str, port: int, path: str, body: bytes) -> int:
    """One HTTP/1.1 POST on its own connection; returns the status code.

    The burst uses this instead of httpx: on a small machine httpx spends ~10 ms of
    CPU per request, so the client, not the server, would set the burst's pace.
    """
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # the rest, until the server closes
        return int(status_line.split()[1])
    finally:
        writer.close()


def fill_queue(url: str) -> None:
    response = httpx.post(url + "/api/generate", json=PROMPT, timeout=60)
    if response.status_code != 202:
        raise RuntimeError(f"could not fill the queue: {response.status_code} {response.text}")


async def run(server: Server, *, submits: int, stream_count: int, settle_s: float) -> list[Phase]:
    await asyncio.sleep(settle_s)
    cold = await burst(server, "cold burst", submits)  # the first burst after start-up
    await asyncio.sleep(1)  # the cold burst's aftermath settles
    idle = await baseline(server.url, probes=100)
    warm = await burst(server, "warm burst", submits)
    phases = [idle, cold, warm]
    if stream_count:
        phases.append(await streams(server.url, stream_count, seconds=3.0))
    return phases


def report(phases: list[Phase], submits: int) -> bool:
    idle = phases[0]
    base_p50, base_p99 = idle.percentile(0.5), idle.percentile(0.99)
    print(f"{'phase':<22} {'health p50':>11} {'p99':>9} {'×p50':>6} {'×p99':>6} {'fail':>5}  burst")
    ok = True
    for phase in phases:
        p50, p99 = phase.percentile(0.5), phase.percentile(0.99)
        burst_text = ""
        if phase.burst_s is not None and phase.statuses is not None:
            all_429 = phase.statuses.get(429, 0) == submits
            within = phase.burst_s <= BURST_TARGET_S
            ok = ok and all_429 and within
            burst_text = (
                f"{submits} submits in {phase.burst_s:.2f} s, statuses {dict(phase.statuses)}, "
                f"CPU server {phase.server_cpu_s:.2f} s / client {phase.client_cpu_s:.2f} s"
            )
        if phase is not idle:
            ok = ok and p99 < HEALTH_P99_TARGET_MS and phase.health_failures == 0
        print(
            f"{phase.name:<22} {p50:>9.1f}ms {p99:>7.1f}ms {p50 / base_p50:>6.1f} "
            f"{p99 / base_p99:>6.1f} {phase.health_failures:>5}  {burst_text}"
        )
    print(
        f"targets: every submit answered 429 within {BURST_TARGET_S:.0f} s, "
        f"/health p99 < {HEALTH_P99_TARGET_MS:.0f} ms under load: {'met' if ok else 'MISSED'}"
    )
    print(
        f"(probes per phase: {', '.join(str(len(p.health_ms)) for p in phases)}; "
        f"median of idle: {statistics.median(idle.health_ms):.1f} ms)"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submits", type=int, default=300)
    parser.add_argument("--streams", type=int, default=200, help="0 skips the SSE phase")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds between start-up and the cold burst (the server imports torch "
        "in the background for the first seconds)",
    )
    parser.add_argument(
        "--unpaced",
        action="store_true",
        help="first run the phases on a server without paced starts, for comparison",
    )
    args = parser.parse_args()
    if args.unpaced:
        print("unpaced (every request of a burst starts in the same event-loop turn):")
        measure(args, {"IMAJIN_SERVER__STARTS_PER_TURN": str(10_000)})
        print("\npaced (server.starts_per_turn as configured):")
    sys.exit(0 if measure(args, {}) else 1)


def measure(args: argparse.Namespace, extra_env: dict[str, str]) -> bool:
    """All phases on a fresh server; prints the report, returns whether targets were met."""
    with (
        tempfile.TemporaryDirectory(prefix="imajin-bench-") as tmp,
        served(Path(tmp) / "data", extra_env) as server,
    ):
        fill_queue(server.url)
        phases = asyncio.run(
            run(server, submits=args.submits, stream_count=args.streams, settle_s=args.settle)
        )
        return report(phases, args.submits)


if __name__ == "__main__":
    main()
