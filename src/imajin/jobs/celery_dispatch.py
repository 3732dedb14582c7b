"""The scale-out dispatcher: hands job ids (and payloads) to Celery queues routed by model."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import timedelta

from imajin.config.jobs import JobsSettings
from imajin.errors import ServiceUnavailable
from imajin.jobs.celery_app import (
    TASK_NAME,
    make_celery,
    payload_kwargs,
    payload_repr,
    queue_name,
)
from imajin.jobs.handlers import MessagePayloads
from imajin.jobs.models import Job
from imajin.jobs.reaper import Reaper
from imajin.jobs.repository import JobRepository
from imajin.store.tables import utcnow

logger = logging.getLogger(__name__)


class CeleryDispatcher:
    """Sends each admitted job to ``<prefix>.<route>``.

    A job is written to the store before it is sent, so a broker outage loses
    nothing: the submit answers 503, the job stays queued, and a pump thread
    sends every never-dispatched job once the broker is back. The reaper
    re-queues jobs whose worker stopped beating; the pump sends them again.

    ``payloads`` (the handler registry) gives the bytes a job's message carries: a
    kind's payload waits in this process until its message is sent, then only the
    broker holds it. A job sent again after that (re-queued by the reaper, or pumped
    by another node) goes without one, and its handler says so. So a re-queued job of
    such a kind is not sent again for ``redelivery_wait_s``: the broker re-delivers its
    first message (acknowledged late), payload included, and that claims it.
    """

    def __init__(
        self,
        repository: JobRepository,
        settings: JobsSettings,
        *,
        payloads: MessagePayloads | None = None,
    ) -> None:
        self._repository = repository
        self._settings = settings
        self._payloads = payloads
        self.celery = make_celery(settings)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.reaper = Reaper(repository, settings, lambda jobs: None)  # the pump re-sends

    def start(self) -> None:
        self._stop.clear()
        for target, name in (
            (self._pump, "imajin-celery-pump"),
            (self.reaper.run_until, "imajin-reaper"),
        ):
            thread = threading.Thread(target=target, args=(self._stop,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()

    def dispatch(self, jobs: Sequence[Job]) -> None:
        """Send ``jobs`` now.

        Raises:
            ServiceUnavailable: the broker is unreachable; the jobs stay queued in
                the store and are sent when it returns.
        """
        for job in jobs:
            try:
                self._send(job)
            except Exception as exc:
                ids = ", ".join(j.id for j in jobs)
                raise ServiceUnavailable(
                    f"The job broker is unreachable ({type(exc).__name__}). Job(s) {ids} are "
                    "stored and will be dispatched when it is back."
                ) from exc

    def _send(self, job: Job) -> None:
        # Claiming first means the pump and a submit (or two API nodes) never both send it.
        if not self._repository.claim_dispatch(job.id):
            return
        try:
            payload = self._payloads.outgoing(job) if self._payloads is not None else None
            self.celery.send_task(
                TASK_NAME,
                args=[job.id],
                kwargs=payload_kwargs(payload),
                kwargsrepr=payload_repr(payload),
                queue=queue_name(self._settings, job.route),
                priority=_broker_priority(job.priority),
                retry=False,
            )
        except Exception:
            self._repository.release_dispatch(job.id)  # the payload stays for the pump
            raise
        if self._payloads is not None:
            self._payloads.sent(job)

    def _pump(self, stop: threading.Event) -> None:
        while not stop.wait(self._settings.poll_interval_s):
            try:
                for job in self._undispatched():
                    self._send(job)
            except Exception as exc:
                logger.warning("broker still unreachable (%s); will retry", type(exc).__name__)

    def _undispatched(self) -> list[Job]:
        held = self._payloads.payload_kinds if self._payloads is not None else []
        wait_s = self._settings.celery.redelivery_wait()
        if not held or wait_s <= 0:
            return self._repository.undispatched()
        return self._repository.undispatched(
            held_kinds=held, requeued_before=utcnow() - timedelta(seconds=wait_s)
        )


def _broker_priority(priority: int) -> int:
    """Map our -100..100 onto the broker's 0..9 (RabbitMQ: higher first)."""
    return max(0, min(9, (priority + 100) * 9 // 200))
