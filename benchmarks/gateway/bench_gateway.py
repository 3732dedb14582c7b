"""Gateway benchmark: `/v1/chat/shorts/generate` on the tiny Z-Image, local vs Celery.

    .venv/bin/python -m benchmarks.gateway.bench_gateway [--requests 20] [--concurrency 4]
        [--check-images 20] [--broker redis://127.0.0.1:6379/0]

Reports, in one run:
- per-stage latency (p50/p95) from each job's own timings (shorten, expand, generate,
  check, caption) and the request's wall time, through the local dispatcher and, when a
  broker URL is given or IMAJIN_TEST_REDIS_URL is set, through Celery with a real
  `imajin worker` process;
- requests/s at ``--concurrency`` requests in flight, and Celery/local ratios (one job
  at a time on each side: one local worker thread, one `imajin worker` process);
- the output check's cost per image against the generate stage measured in the same run.

The server is a real uvicorn on a loopback port, called over HTTP. The LLM is the
shipped ``scripted`` backend (schema-shaped minimal answers, configured in config.yaml so
the Celery worker process runs the same one): the figures are the gateway's own cost
around the model, not an LLM's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from PIL import Image

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.gateway.output_check import OpenNsfwScorer
from imajin.jobs.routes import route_for_model
from imajin.store.migrate import upgrade
from imajin.testing import build_tiny_zimage
from imajin.wiring import Platform, build_platform

STAGES = ("shorten", "expand", "generate", "check", "caption")
MESSAGE = "a lighthouse on a cliff at dusk"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class _Server:
    """The platform's app on a loopback port, in a thread."""

    def __init__(self, platform: Platform) -> None:
        sock_port = _free_port()
        self.url = f"http://127.0.0.1:{sock_port}"
        config = uvicorn.Config(
            create_app(platform), host="127.0.0.1", port=sock_port, log_config=None
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> _Server:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _workdir(root: Path, model: Path, name: str) -> Path:
    work = root / name
    work.mkdir()
    config = {
        "llm": {
            "default_model": "script",
            "models": {"script": {"backend": "scripted", "options": {"answers": []}}},
        },
        "gateway": {"model": str(model)},
        "logging": {"level": "WARNING"},
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return work


def _environ(work: Path, **extra: str) -> dict[str, str]:
    return {
        "IMAJIN_DATA_DIR": str(work / "data"),
        "IMAJIN_JOBS__POLL_INTERVAL_S": "0.02",
        "IMAJIN_GATEWAY__ENDPOINTS__SHORTS__CAPACITY": "1000",
        **extra,
    }


def _run(platform: Platform, requests: int, concurrency: int) -> dict[str, Any]:
    """One warm-up request, ``requests`` one at a time (latency), then the same number with
    ``concurrency`` in flight (throughput)."""
    with _Server(platform) as server, httpx.Client(base_url=server.url, timeout=300) as http:

        def ask(seed: int) -> tuple[float, str]:
            started = time.perf_counter()
            response = http.post(
                "/v1/chat/shorts/generate", json={"message": MESSAGE, "seed": seed}
            )
            response.raise_for_status()
            return time.perf_counter() - started, str(response.json()["job_id"])

        ask(0)
        sequential = [ask(seed) for seed in range(1, requests + 1)]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(ask, range(requests + 1, 2 * requests + 1)))
        throughput = requests / (time.perf_counter() - started)
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _wall, job_id in sequential:
        result = platform.jobs.get(job_id).result or {}
        for stage in STAGES:
            stages[stage].append(float(result["timings"][stage]) * 1000)
    stages["request"] = [wall * 1000 for wall, _ in sequential]
    return {"stages": stages, "requests_per_s": throughput}


def bench_local(root: Path, model: Path, requests: int, concurrency: int) -> dict[str, Any]:
    work = _workdir(root, model, "local")
    platform = build_platform(
        load_settings(environ=_environ(work, IMAJIN_JOBS__WORKERS="1"), cwd=work)
    )
    upgrade(platform.database)
    try:
        return _run(platform, requests, concurrency)
    finally:
        platform.close()


def bench_celery(
    root: Path, model: Path, requests: int, concurrency: int, broker: str
) -> dict[str, Any]:
    work = _workdir(root, model, "celery")
    env = _environ(
        work,
        IMAJIN_JOBS__DISPATCHER="celery",
        IMAJIN_JOBS__CELERY__BROKER_URL=broker,
        IMAJIN_JOBS__CELERY__QUEUE_PREFIX=f"imajin-bench-{uuid.uuid4().hex[:6]}",
    )
    platform = build_platform(load_settings(environ=env, cwd=work))
    upgrade(platform.database)
    route = route_for_model(platform.models.resolve(str(model), allow_paths=True).id)
    log = work / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "imajin", "worker", "--queues", f"default,{route}"],
        env={**os.environ, **env},
        cwd=work,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        while b" ready." not in log.read_bytes():
            if worker.poll() is not None:
                raise RuntimeError(log.read_text())
            time.sleep(0.1)
        return _run(platform, requests, concurrency)
    finally:
        platform.close()
        worker.terminate()
        worker.wait(timeout=30)


def bench_classifier(images: int) -> dict[str, float]:
    """The Open-NSFW check per image at the tiny model's size and at 1024 px."""
    scorer = OpenNsfwScorer()
    figures: dict[str, float] = {}
    for size in (64, 1024):
        image = Image.new("RGB", (size, size), (120, 140, 160))
        scorer.score(image)  # loads the ONNX session
        started = time.perf_counter()
        for _ in range(images):
            scorer.score(image)
        figures[f"{size}px_ms"] = (time.perf_counter() - started) / images * 1000
    return figures


def _print_stages(name: str, figures: dict[str, Any]) -> None:
    stages = figures["stages"]
    cells = "  ".join(
        f"{stage} {statistics.median(values):6.1f}/{_percentile(values, 0.95):6.1f}"
        for stage, values in stages.items()
    )
    print(f"{name:7s}: p50/p95 ms  {cells}   {figures['requests_per_s']:5.2f} req/s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20, help="requests per measurement")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument(
        "--check-images", type=int, default=20, help="images per size timing the output check"
    )
    parser.add_argument(
        "--broker",
        default=os.environ.get("IMAJIN_TEST_REDIS_URL"),
        help="Celery broker URL (omit to skip the Celery run)",
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_tiny_zimage(root / "tiny-zimage")
        local = bench_local(root, model, args.requests, args.concurrency)
        _print_stages("local", local)
        if args.broker:
            celery = bench_celery(root, model, args.requests, args.concurrency, args.broker)
            _print_stages("celery", celery)
            ratio = celery["requests_per_s"] / local["requests_per_s"]
            p50 = statistics.median(celery["stages"]["request"]) / statistics.median(
                local["stages"]["request"]
            )
            print(f"ratio  : celery/local requests/s {ratio:.2f}, request p50 {p50:.2f}×")
        check = bench_classifier(args.check_images)
        generate_p50 = statistics.median(local["stages"]["generate"])
        print(
            f"check  : {check['64px_ms']:.1f} ms per 64 px image, {check['1024px_ms']:.1f} ms "
            f"per 1024 px image; {check['64px_ms'] / generate_p50:.2f}× the tiny model's "
            f"generate stage (p50 {generate_p50:.1f} ms)"
        )


if __name__ == "__main__":
    main()
