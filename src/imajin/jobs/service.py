"""The face of the job system for services and routes: submit, look up, cancel, wait."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from anyio import to_thread

from imajin.jobs.admission import Admission, WithJobs
from imajin.jobs.errors import UnknownJobKind
from imajin.jobs.handlers import HandlerRegistry
from imajin.jobs.models import Job, JobSpec, JobStatus
from imajin.jobs.repository import JobRepository


class Dispatcher(Protocol):
    def start(self) -> None: ...
    def stop(self, timeout: float = ...) -> None: ...
    def dispatch(self, jobs: Sequence[Job]) -> None: ...


class JobService:
    """Admits jobs (bounded), hands them to the dispatcher, answers questions about them."""

    def __init__(
        self,
        *,
        repository: JobRepository,
        admission: Admission,
        dispatcher: Dispatcher,
        handlers: HandlerRegistry,
    ) -> None:
        self.repository = repository
        self.admission = admission
        self.dispatcher = dispatcher
        self.handlers = handlers

    def submit(self, spec: JobSpec, *, with_jobs: WithJobs | None = None) -> Job:
        return self.submit_many([spec], with_jobs=with_jobs)[0]

    def submit_many(
        self, specs: Sequence[JobSpec], *, with_jobs: WithJobs | None = None
    ) -> list[Job]:
        """Queue all ``specs`` atomically, then dispatch them.

        ``with_jobs(session, jobs)`` writes a service's own rows in the same transaction.

        Raises:
            InvalidInput: an unknown job kind (nothing is queued).
            Overloaded: a queue is full (nothing is queued).
            ServiceUnavailable: the broker is down (jobs are queued and sent later).
        """
        for spec in specs:
            if spec.kind not in self.handlers:
                self.handlers.get(spec.kind)  # raises with the list of known kinds
        if not specs:
            raise UnknownJobKind("Nothing to submit.", field="jobs")
        jobs = self.admission.admit(specs, with_jobs=with_jobs)
        self.dispatcher.dispatch(jobs)
        return jobs

    def check_room(self, queue: str, *, wanted: int = 1) -> None:
        """Raise Overloaded early when ``queue`` is full (``submit`` checks again)."""
        self.admission.check_room(queue, wanted=wanted)

    def get(self, job_id: str) -> Job:
        """The job as stored (deliver-once keys included, still undelivered): for the code
        that runs and settles jobs. Readers outside it use :meth:`deliver` or a listing."""
        return self.repository.get(job_id)

    def deliver(self, job_id: str) -> Job:
        """The job for its waiter or the client polling it: the first read of a finished
        job gets its deliver-once keys and drops them (:mod:`imajin.jobs.deliver_once`)."""
        return self.repository.deliver(job_id)

    def page(
        self,
        *,
        status: JobStatus | None = None,
        kind: str | None = None,
        group_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Job], int]:
        """A page of jobs, newest first, and the total matching."""
        return self.repository.page(
            status=status, kind=kind, group_id=group_id, limit=limit, offset=offset
        )

    def status_counts(self, group_ids: Sequence[str]) -> dict[str, Counter[str]]:
        """Group id (a batch, a variation) → its jobs counted by status."""
        return self.repository.status_counts(group_ids)

    def in_groups(self, group_ids: Sequence[str], *, status: JobStatus | None = None) -> list[Job]:
        """Every job of the groups (of ``status``, if given), oldest first."""
        return self.repository.in_groups(group_ids, status=status)

    def cancel(self, job_id: str) -> Job:
        return self.repository.request_cancel(job_id)

    def wait(self, job_id: str, *, timeout_s: float = 60.0, poll_s: float = 0.05) -> Job:
        """Block until the job finishes, then :meth:`deliver` it to this waiter (the CLI,
        a gateway request); TimeoutError otherwise."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.repository.deliver(job_id)  # the same read as get until it has ended
            if JobStatus(job.status).finished:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.status} after {timeout_s} s")
            time.sleep(poll_s)

    async def wait_async(
        self, job_id: str, *, timeout_s: float = 60.0, poll_s: float = 0.05
    ) -> Job:
        """:meth:`wait` for async code: sleeps on the event loop between reads (each read
        borrows a worker thread for one query), so a long wait holds no thread."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = await to_thread.run_sync(self.repository.deliver, job_id)
            if JobStatus(job.status).finished:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.status} after {timeout_s} s")
            await asyncio.sleep(poll_s)

    def start(self) -> None:
        self.dispatcher.start()

    def stop(self) -> None:
        self.dispatcher.stop()
