"""Celery for scale-out: the broker carries job ids; the store keeps the jobs.

Messages are acknowledged late, one at a time, and re-queued if the worker
is lost; since :meth:`JobRunner.run_by_id` claims a job with compare-and-set,
a re-delivered message for a job that already ran is dropped, and so is the
message of a job another worker claimed into its batch.

A message may also carry a job's *payload* (base64 in ``kwargs``; see
:class:`~imajin.jobs.handlers.MessagePayload`): bytes that travel only through the
broker, never the store. Being acknowledged late, a message re-delivered after its
worker died still carries them (and runs the re-queued job: :mod:`imajin.jobs.redelivery`);
once acknowledged, the broker forgets them.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from typing import Any

from imajin.config.jobs import JobsSettings
from imajin.jobs.redelivery import LostWorkerWait
from imajin.jobs.runner import Heartbeats, JobRunner
from imajin.jobs.workers import worker_id

try:
    from celery import Celery
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "The Celery dispatcher needs the `celery` extra: pip install 'imajin[celery]'"
    ) from exc

logger = logging.getLogger(__name__)

TASK_NAME = "imajin.run_job"
PAYLOAD_ARG = "payload"


def payload_kwargs(payload: bytes | None) -> dict[str, str]:
    """The task ``kwargs`` carrying ``payload`` (JSON-safe: base64)."""
    if payload is None:
        return {}
    return {PAYLOAD_ARG: base64.b64encode(payload).decode("ascii")}


def payload_repr(payload: bytes | None) -> str:
    """What Celery logs and monitors show for those ``kwargs``: a size, never the bytes."""
    if payload is None:
        return "{}"
    return f"{{'{PAYLOAD_ARG}': '<{len(payload)} bytes>'}}"


def queue_name(settings: JobsSettings, route: str) -> str:
    """Celery queue for a routing key: ``<prefix>.<route>``, e.g. ``imajin.sdxl``."""
    return f"{settings.celery.queue_prefix}.{route}"


def make_celery(settings: JobsSettings) -> Celery:
    """A Celery app configured for at-least-once delivery of long GPU jobs."""
    app = Celery("imajin", broker=settings.celery.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=queue_name(settings, "default"),
        broker_connection_timeout=settings.celery.connect_timeout_s,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.celery.visibility_timeout_s,
            # Redis only: a dead worker's message is back within this of its timeout, so a
            # job waiting for it (``redelivery_wait_s``) gets it; one scan per sweep.
            "unacked_restore_interval": settings.celery.redis_restore_interval_s,
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    app.task(name=TASK_NAME, acks_late=True)(_run_job)
    return app


@dataclass
class WorkerRuntime:
    """What a Celery worker process runs jobs with (set once by ``imajin worker``)."""

    runner: JobRunner
    heartbeats: Heartbeats
    name: str = "celery"
    gather_s: float = 0.0
    """How long a batchable job waits for compatible queued jobs (``jobs.batch_window_ms``)."""
    lost_worker_wait: LostWorkerWait | None = None
    """How long a message with a payload waits for its job's lost worker to be reaped."""


_runtime: WorkerRuntime | None = None


def install_runtime(runtime: WorkerRuntime) -> None:
    """Called by ``imajin worker`` before the worker starts consuming."""
    global _runtime  # noqa: PLW0603  # Celery tasks are module functions; this is their seam
    _runtime = runtime


def _run_job(job_id: str, payload: str | None = None) -> dict[str, Any]:
    if _runtime is None:
        raise RuntimeError("this process is not an imajin worker (start it with `imajin worker`)")
    data = _decoded(payload)
    del payload  # the handler gets the only copy this function keeps
    ran = _runtime.runner.run_by_id(
        job_id,
        worker_id(_runtime.name),
        gather_s=_runtime.gather_s,
        payload=data,
        lost_worker_wait=_runtime.lost_worker_wait,
    )
    return {"jobId": job_id, "ran": ran}


def _decoded(payload: str | None) -> bytes | None:
    if payload is None:
        return None
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        # A message not written by CeleryDispatcher: the job runs without it and its
        # handler says what is missing (e.g. a profile job's selfie_gone).
        logger.warning("ignored a malformed job payload")
        return None
