"""Job-system benchmark: local vs Celery dispatch, and back-pressure at 10× overload.

    .venv/bin/python -m benchmarks.jobs.bench_jobs [--jobs 200] [--broker redis://127.0.0.1:6379/0]

Reports, in one run: submit → start latency (p50/p95) and no-op jobs/s through
the local dispatcher and through Celery with real `imajin worker` processes
(when a broker URL is given or IMAJIN_TEST_REDIS_URL is set), their ratio,
and how admission behaves when 10× a queue's capacity arrives at once.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from imajin.config.loader import load_settings
from imajin.errors import Overloaded
from imajin.jobs.models import JobSpec, JobStatus
from imajin.store.migrate import upgrade
from imajin.wiring import Platform, build_platform


def _platform(data: Path, **env: str) -> Platform:
    environ = {
        "IMAJIN_DATA_DIR": str(data),
        "IMAJIN_JOBS__POLL_INTERVAL_S": "0.05",
        "IMAJIN_JOBS__DEFAULT_CAPACITY": "100000",
        "IMAJIN_LOGGING__LEVEL": "WARNING",
        **env,
    }
    platform = build_platform(load_settings(environ=environ, cwd=data.parent))
    upgrade(platform.database)
    return platform


def _measure(platform: Platform, count: int) -> dict[str, float]:
    """Throughput: ``count`` no-op jobs submitted at once, timed to the last finish.
    Latency: one job at a time on an idle system, submit → start."""
    started = time.perf_counter()
    ids = [platform.jobs.submit(JobSpec(kind="noop")).id for _ in range(count)]
    for job_id in ids:
        platform.jobs.wait(job_id, timeout_s=300, poll_s=0.01)
    elapsed = time.perf_counter() - started
    latencies = []
    for _ in range(min(count, 50)):
        job = platform.jobs.wait(platform.jobs.submit(JobSpec(kind="noop")).id, poll_s=0.005)
        assert job.status == JobStatus.SUCCEEDED and job.started_at is not None
        latencies.append((job.started_at - job.created_at).total_seconds() * 1000)
    latencies.sort()
    return {
        "jobs_per_s": count / elapsed,
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
    }


def bench_local(root: Path, count: int) -> dict[str, float]:
    platform = _platform(root / "local", IMAJIN_JOBS__WORKERS="1")
    platform.start()
    try:
        _measure(platform, 10)  # warm-up
        return _measure(platform, count)
    finally:
        platform.close()


def bench_celery(root: Path, count: int, broker: str) -> dict[str, float]:
    env = {
        "IMAJIN_JOBS__DISPATCHER": "celery",
        "IMAJIN_JOBS__CELERY__BROKER_URL": broker,
        "IMAJIN_JOBS__CELERY__QUEUE_PREFIX": f"imajin-bench-{uuid.uuid4().hex[:6]}",
    }
    data = root / "celery"
    platform = _platform(data, **env)
    log = data / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "imajin", "worker", "--loglevel", "INFO"],
        env={**os.environ, "IMAJIN_DATA_DIR": str(data), "IMAJIN_LOGGING__LEVEL": "WARNING", **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        while b" ready." not in log.read_bytes():
            if worker.poll() is not None:
                raise RuntimeError(log.read_text())
            time.sleep(0.1)
        platform.start()
        _measure(platform, 10)
        return _measure(platform, count)
    finally:
        platform.close()
        worker.terminate()
        worker.wait(timeout=30)


def bench_overload(root: Path, capacity: int) -> dict[str, float]:
    """10 × capacity concurrent submits against one worker running 50 ms jobs."""
    platform = _platform(
        root / "overload", IMAJIN_JOBS__WORKERS="1", IMAJIN_JOBS__DEFAULT_CAPACITY=str(capacity)
    )
    platform.start()
    accepted: list[str] = []
    retry_after: list[int] = []
    lock = threading.Lock()

    def submit() -> None:
        try:
            job = platform.jobs.submit(JobSpec(kind="noop", params={"sleep_s": 0.05}))
            with lock:
                accepted.append(job.id)
        except Overloaded as exc:
            with lock:
                retry_after.append(exc.retry_after)

    try:
        started = time.perf_counter()
        threads = [threading.Thread(target=submit) for _ in range(10 * capacity)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        admission_s = time.perf_counter() - started
        for job_id in accepted:
            platform.jobs.wait(job_id, timeout_s=120)
    finally:
        platform.close()
    return {
        "offered": 10 * capacity,
        "accepted": len(accepted),
        "rejected": len(retry_after),
        "retry_after_min": min(retry_after, default=0),
        "retry_after_max": max(retry_after, default=0),
        "admission_s": admission_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=200, help="no-op jobs per dispatcher")
    parser.add_argument("--capacity", type=int, default=20, help="queue capacity for overload")
    parser.add_argument(
        "--broker",
        default=os.environ.get("IMAJIN_TEST_REDIS_URL"),
        help="Celery broker URL (omit to skip the Celery run)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        local = bench_local(root, args.jobs)
        print(
            f"local   : {local['jobs_per_s']:7.1f} jobs/s   submit→start p50 "
            f"{local['p50_ms']:6.1f} ms  p95 {local['p95_ms']:6.1f} ms"
        )
        if args.broker:
            celery = bench_celery(root, args.jobs, args.broker)
            print(
                f"celery  : {celery['jobs_per_s']:7.1f} jobs/s   submit→start p50 "
                f"{celery['p50_ms']:6.1f} ms  p95 {celery['p95_ms']:6.1f} ms   "
                f"({args.broker.split('://')[0]}, 1 worker process)"
            )
            ratio = celery["jobs_per_s"] / local["jobs_per_s"]
            print(
                f"ratio   : celery/local throughput {ratio:.2f}"
                f"   latency p50 {celery['p50_ms'] / local['p50_ms']:.2f}×"
            )
        over = bench_overload(root, args.capacity)
        print(
            f"overload: {over['offered']} offered to capacity {args.capacity}: "
            f"{over['accepted']} accepted, {over['rejected']} rejected with 429 "
            f"(Retry-After {over['retry_after_min']}–{over['retry_after_max']} s), "
            f"admission of all in {over['admission_s']:.2f} s, "
            f"peak RSS {over['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
