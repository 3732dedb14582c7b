"""The analytics consumer: durations, success/failure rates and throughput per job kind."""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import BaseModel, ConfigDict, Field

from imajin.events.models import Event, JobEvent

_WINDOW_S = 300.0  # throughput is measured over the last five minutes


class KindStats(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    succeeded: int
    failed: int
    cancelled: int
    success_rate: float | None = Field(serialization_alias="successRate")
    mean_duration_s: float | None = Field(serialization_alias="meanDurationS")
    p50_duration_s: float | None = Field(serialization_alias="p50DurationS")
    p95_duration_s: float | None = Field(serialization_alias="p95DurationS")
    throughput_per_min: float = Field(serialization_alias="throughputPerMin")


@dataclass
class _Kind:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    durations: deque[float] = field(default_factory=lambda: deque(maxlen=1000))
    finished_at: deque[float] = field(default_factory=lambda: deque(maxlen=10000))


class AnalyticsConsumer:
    """Subscribes to terminal job events; also exports them as Prometheus metrics."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._kinds: defaultdict[str, _Kind] = defaultdict(_Kind)
        self._lock = threading.Lock()
        self._finished = Counter(
            "imajin_jobs_finished_total",
            "Finished jobs by kind and outcome.",
            ["kind", "status"],
            registry=registry,
        )
        self._duration = Histogram(
            "imajin_job_duration_seconds",
            "Run time of succeeded jobs by kind.",
            ["kind"],
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
            registry=registry,
        )

    types = tuple(JobEvent.TERMINAL)

    def __call__(self, event: Event) -> None:
        kind = str(event.payload.get("kind", "unknown"))
        status = event.type.removeprefix("JOB_").lower()
        duration = event.payload.get("durationS")
        with self._lock:
            stats = self._kinds[kind]
            stats.counts[status] += 1
            stats.finished_at.append(time.monotonic())
            if event.type == JobEvent.SUCCEEDED and isinstance(duration, int | float):
                stats.durations.append(float(duration))
        self._finished.labels(kind, status).inc()
        if event.type == JobEvent.SUCCEEDED and isinstance(duration, int | float):
            self._duration.labels(kind).observe(float(duration))

    def snapshot(self) -> dict[str, Any]:
        """``{kinds: {kind: KindStats}}`` as JSON-ready data."""
        now = time.monotonic()
        with self._lock:
            kinds = {kind: _stats(stats, now) for kind, stats in sorted(self._kinds.items())}
        return {
            "windowS": _WINDOW_S,
            "kinds": {kind: s.model_dump(by_alias=True) for kind, s in kinds.items()},
        }


def _stats(stats: _Kind, now: float) -> KindStats:
    succeeded, failed = stats.counts["succeeded"], stats.counts["failed"]
    durations = sorted(stats.durations)
    recent = sum(1 for t in stats.finished_at if now - t <= _WINDOW_S)
    return KindStats(
        succeeded=succeeded,
        failed=failed,
        cancelled=stats.counts["cancelled"],
        success_rate=succeeded / (succeeded + failed) if succeeded + failed else None,
        mean_duration_s=statistics.fmean(durations) if durations else None,
        p50_duration_s=_percentile(durations, 0.50),
        p95_duration_s=_percentile(durations, 0.95),
        throughput_per_min=recent / (_WINDOW_S / 60),
    )


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
