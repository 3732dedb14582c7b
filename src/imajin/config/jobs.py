"""Job system settings (the ``jobs:`` section of the configuration)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueueSettings(_Section):
    capacity: int = Field(100, ge=1, description="Queued + running jobs admitted before 429.")


_AMQP_REDELIVERY_WAIT_S = 30.0
_REDIS_RESTORE_MAX_S = 10
_REDIS_LONGEST_WAITED_VISIBILITY_S = 120


class CelerySettings(_Section):
    broker_url: str = Field(
        "redis://127.0.0.1:6379/0", description="redis://... or amqp://user:pass@host:5672//"
    )
    queue_prefix: str = Field("imajin", description="Celery queue names are <prefix>.<route>.")
    visibility_timeout_s: int = Field(
        3600, ge=1, description="Redis only: an unacknowledged message is re-delivered after this."
    )
    connect_timeout_s: float = Field(3.0, gt=0, description="Broker connect timeout at submit.")
    redelivery_wait_s: float | None = Field(
        None,
        ge=0,
        description="How long a job with a message payload (a profile selfie) re-queued after "
        "its worker was lost waits for the broker to re-deliver its message, payload "
        "included, before it is sent again without one (then it fails selfie_gone). "
        "null: 30 on RabbitMQ (a dead worker's message returns at once); on Redis "
        "visibility_timeout_s + 10 when visibility_timeout_s <= 120, else 0 (it returns "
        "too late to wait for); 0: never wait.",
    )

    @property
    def redis_restore_interval_s(self) -> float:
        """How often Redis workers put back messages unacknowledged past the visibility
        timeout (kombu's default sweep, every 100 s, would add more than most waits)."""
        return float(min(_REDIS_RESTORE_MAX_S, self.visibility_timeout_s))

    def redelivery_wait(self) -> float:
        """``redelivery_wait_s``, or the default for this broker (see its description)."""
        if self.redelivery_wait_s is not None:
            return self.redelivery_wait_s
        if not self.broker_url.startswith(("redis://", "rediss://")):
            return _AMQP_REDELIVERY_WAIT_S
        if self.visibility_timeout_s > _REDIS_LONGEST_WAITED_VISIBILITY_S:
            return 0.0
        return self.visibility_timeout_s + self.redis_restore_interval_s


class JobsSettings(_Section):
    dispatcher: Literal["local", "celery"] = Field(
        "local", description="local: worker threads in the server; celery: `imajin worker`s."
    )
    workers: int = Field(1, ge=0, le=64, description="Local worker threads (0: none here).")
    default_capacity: int = Field(100, ge=1, description="Capacity of queues not listed below.")
    queues: dict[str, QueueSettings] = Field(
        default_factory=dict, description="Per-queue capacity, by queue name."
    )
    max_attempts: int = Field(3, ge=1, le=20, description="Runs before a lost job is failed.")
    heartbeat_interval_s: float = Field(2.0, gt=0, description="How often running jobs beat.")
    stale_after_s: float = Field(
        30.0, gt=0, description="A running job without a heartbeat this long lost its worker."
    )
    poll_interval_s: float = Field(0.5, gt=0, description="Idle workers look for jobs this often.")
    progress_interval_s: float = Field(
        0.2,
        ge=0,
        le=60,
        description="A job's progress is stored at most this often (0: every step).",
    )
    retry_after_default_s: int = Field(5, ge=1, description="Retry-After with no history yet.")
    retry_after_max_s: int = Field(120, ge=1, description="Cap on the Retry-After estimate.")
    history_days: int = Field(
        30, ge=0, description="Finished jobs older than this are deleted (0: kept forever)."
    )
    batch_window_ms: int = Field(
        50,
        ge=0,
        le=10_000,
        description="Celery workers: how long a batchable job waits for compatible queued jobs "
        "to denoise with it (up to engine.max_batch); 0: only those already queued.",
    )
    celery: CelerySettings = CelerySettings()

    @model_validator(mode="after")
    def _gathered_jobs_beat_in_time(self) -> Self:
        # A job claimed into a batch beats only once gathering ends, and then within one
        # heartbeat interval: longer than stale_after_s, the reaper takes it back mid-batch.
        window_s = self.batch_window_ms / 1000
        if window_s + self.heartbeat_interval_s >= self.stale_after_s:
            raise ValueError(
                f"jobs.batch_window_ms ({self.batch_window_ms} ms) plus "
                f"jobs.heartbeat_interval_s ({self.heartbeat_interval_s} s) must stay below "
                f"jobs.stale_after_s ({self.stale_after_s} s): a job gathered into a batch "
                "first beats only after the window, and one silent for stale_after_s is "
                "taken for lost; shorten the window or raise stale_after_s"
            )
        return self

    def capacity_of(self, queue: str) -> int:
        configured = self.queues.get(queue)
        return configured.capacity if configured else self.default_capacity
