"""Job kinds and the narrow context their handlers run with.

A handler is ``def handle(ctx: JobContext) -> dict | None``: it reads
``ctx.job.params``, does its work with the collaborators its constructor was
given (never the service that queued the job), reports progress (which
raises :class:`JobCancelled` when a cancel was asked for), and returns the
job's result. The same handler runs under the local and the Celery dispatcher.

A kind may also register a *settle* hook: it runs whenever a job of that kind
ends failed or cancelled (an exception escaped the handler, a cancel, the
reaper giving up on a lost worker), inside the transaction that writes the
job's final state, so the rows that depend on the job are settled with it.

A kind may also register a *batch rule*: queued jobs whose rules share a group
and whose shape keys are equal are claimed together and run in one call of the
rule's ``run`` (e.g. denoised in one pipeline call), each keeping its own
context, progress, cancel, result and final state.

A kind may also register a *message payload*: bytes that must reach the handler but
never the store (a selfie). The Celery dispatcher sends them inside the job's broker
message; the handler takes them from :meth:`JobContext.take_payload`. The local
dispatcher never asks for them: its handlers share the memory that holds them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from imajin.errors import InvalidInput
from imajin.jobs.deliver_once import DeliverOnce
from imajin.jobs.errors import UnknownJobKind
from imajin.jobs.models import Job


class JobCancelled(Exception):
    """Raised inside a handler when its job was cancelled; the runner marks it cancelled."""


ProgressSink = Callable[[int, int, str, dict[str, Any]], bool]
PreviewSink = Callable[[dict[str, Any]], None]
"""Relays one live preview's event fields (best effort: never raises)."""


@dataclass
class JobContext:
    """Everything one run of a handler gets."""

    job: Job
    logger: logging.LoggerAdapter[logging.Logger]
    _progress: ProgressSink
    _final_writes: list[Callable[[Session], None]] = field(default_factory=list)
    _preview: PreviewSink | None = None
    _min_interval_s: float = 0.2
    _last_report: float = 0.0
    _payload: bytes | None = None
    _cancel_requested: Callable[[], bool] | None = None
    _deliver_once: DeliverOnce | None = None

    def take_payload(self) -> bytes | None:
        """The bytes this job's message carried (None: it carried none), handed over once:
        the context drops them, so they live no longer than the handler keeps them."""
        payload, self._payload = self._payload, None
        return payload

    def report(self, step: int, total: int, message: str = "", **extra: Any) -> None:
        """Record progress and honour cancellation (raises :class:`JobCancelled`).

        Reports closer together than ``_min_interval_s`` are skipped (the final
        step never is) so fast loops do not flood the store with events.
        """
        now = time.monotonic()
        if step < total and now - self._last_report < self._min_interval_s:
            return
        self._last_report = now
        if self._progress(step, total, message, extra):
            raise JobCancelled(f"job {self.job.id} was cancelled")

    def preview(self, **fields: Any) -> None:
        """Relay a live preview (``step``, ``total``, ``dataUrl``, ...) to the job's events."""
        if self._preview is not None:
            self._preview(fields)

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if a cancel was asked for (reports current progress)."""
        progress = self.job.progress
        if self._progress(progress.step, progress.total, progress.message, {}):
            raise JobCancelled(f"job {self.job.id} was cancelled")

    def cancel_requested(self) -> bool:
        """Whether a cancel was asked for (or the job is no longer this worker's), read
        without reporting progress: for a check before costly work begins."""
        return self._cancel_requested is not None and self._cancel_requested()

    def deliver_once(self, *keys: str, ttl_s: float) -> None:
        """Keep these keys of the result in the store only until they are first delivered,
        or ``ttl_s`` after the job ends if nobody reads them (:mod:`imajin.jobs.deliver_once`)."""
        self._deliver_once = DeliverOnce(keys=keys, ttl_s=ttl_s)

    def on_success(self, write: Callable[[Session], None]) -> None:
        """Run ``write`` in the transaction that marks the job succeeded."""
        self._final_writes.append(write)


Handler = Callable[[JobContext], dict[str, Any] | None]

Settle = Callable[[Session, Job], None]
"""(session of the job's final transition, the job as it ended) → settle its dependents.

Must be idempotent: the handler may have settled the same rows itself already.
"""


class MessagePayload(Protocol):
    """Where a kind's message payload waits in the submitting process until it is sent."""

    def outgoing(self, job: Job) -> bytes | None:
        """The bytes to send with ``job``'s message (None: none here); kept until :meth:`sent`."""
        ...

    def sent(self, job: Job) -> None:
        """The broker holds ``job``'s message now: drop the local copy."""
        ...


class MessagePayloads(MessagePayload, Protocol):
    """The message payloads of every kind that has one (the handler registry)."""

    @property
    def payload_kinds(self) -> list[str]:
        """The kinds whose messages carry a payload from this process."""
        ...


Outcome = dict[str, Any] | None | BaseException
"""What one job of a batch came to: its result, or the error that ended it."""


@dataclass(frozen=True)
class BatchRule:
    """How jobs of some kinds run together.

    Attributes:
        group: Kinds whose rules name the same group may share a run.
        key: The job's shape key: jobs with equal keys may run together; None: alone.
        limit: The most jobs one run may hold with this job (e.g. the engine's
            ``max_batch`` for its model); 1 or less: alone.
        run: Runs the contexts together; one outcome per context, in order. One job's
            error is its own outcome, never its neighbours'.
    """

    group: str
    key: Callable[[Job], Hashable | None]
    limit: Callable[[Job], int]
    run: Callable[[Sequence[JobContext]], list[Outcome]]


class HandlerRegistry:
    """Job kind → handler. Each subsystem registers its kinds at wiring time."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._settles: dict[str, Settle] = {}
        self._batches: dict[str, BatchRule] = {}
        self._payloads: dict[str, MessagePayload] = {}

    def register(
        self,
        kind: str,
        handler: Handler,
        *,
        settle: Settle | None = None,
        batch: BatchRule | None = None,
        payload: MessagePayload | None = None,
    ) -> None:
        """Add a kind; ``settle`` runs when one of its jobs ends failed or cancelled;
        ``batch`` lets its queued jobs of one shape run together; ``payload`` gives the
        bytes its jobs' broker messages carry.

        Raises:
            ValueError: ``kind`` is already registered.
        """
        if kind in self._handlers:
            raise ValueError(f"job kind {kind!r} is already registered")
        self._handlers[kind] = handler
        if settle is not None:
            self._settles[kind] = settle
        if batch is not None:
            self._batches[kind] = batch
        if payload is not None:
            self._payloads[kind] = payload

    def replace(self, kind: str, handler: Handler) -> None:
        """Swap the handler of a registered kind, keeping its settle hook (plugins; tests
        injecting faults). Its jobs then run alone: a batch rule would bypass ``handler``."""
        self.get(kind)
        self._handlers[kind] = handler
        self._batches.pop(kind, None)

    def get(self, kind: str) -> Handler:
        """The handler of ``kind``.

        Raises:
            UnknownJobKind: no such kind is registered.
        """
        try:
            return self._handlers[kind]
        except KeyError:
            known = ", ".join(sorted(self._handlers)) or "none"
            raise UnknownJobKind(
                f"Unknown job kind {kind!r}; known kinds: {known}.", field="kind"
            ) from None

    def settle(self, session: Session, job: Job) -> None:
        """Run the settle hook of ``job``'s kind, if it has one (the repository's ``settle``)."""
        hook = self._settles.get(job.kind)
        if hook is not None:
            hook(session, job)

    def outgoing(self, job: Job) -> bytes | None:
        """The payload ``job``'s broker message carries, if its kind has one waiting here."""
        source = self._payloads.get(job.kind)
        return source.outgoing(job) if source is not None else None

    def sent(self, job: Job) -> None:
        """``job``'s message is with the broker: its kind drops the local payload."""
        source = self._payloads.get(job.kind)
        if source is not None:
            source.sent(job)

    @property
    def payload_kinds(self) -> list[str]:
        return sorted(self._payloads)

    def batch_rule(self, kind: str) -> BatchRule | None:
        """The batch rule of ``kind``, if its jobs may run together."""
        return self._batches.get(kind)

    def batching_with(self, rule: BatchRule) -> list[str]:
        """The kinds whose jobs may share a run under ``rule`` (its group's)."""
        return sorted(kind for kind, other in self._batches.items() if other.group == rule.group)

    def __contains__(self, kind: object) -> bool:
        return kind in self._handlers

    @property
    def kinds(self) -> list[str]:
        return sorted(self._handlers)


class NoopParams(BaseModel):
    """The ``params`` of a ``noop`` job."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(1, ge=0, le=100_000)
    sleep_s: float = Field(0.0, ge=0.0, le=3600.0, description="Sleep before each step.")
    fail: bool = Field(False, description="Raise InvalidInput after the last step.")
    batch: int = Field(
        1,
        ge=1,
        le=64,
        description="Queued noop jobs of equal steps, sleep_s and batch run together, up to "
        "this many (smoke-tests job batching without a model).",
    )


def noop_handler(ctx: JobContext) -> dict[str, Any]:
    """A diagnostic kind: ``steps`` steps of ``sleep_s`` each; ``fail`` raises at the end.

    Used to smoke-test workers and to benchmark the job system without a model.
    """
    params = NoopParams.model_validate(ctx.job.params)
    for step in range(1, params.steps + 1):
        if params.sleep_s:
            time.sleep(params.sleep_s)
        ctx.report(step, params.steps, f"step {step}")
    if params.fail:
        raise InvalidInput("noop job asked to fail", field="params.fail")
    return {"steps": params.steps, "attempt": ctx.job.attempts, "batchSize": 1}


def noop_batch(contexts: Sequence[JobContext]) -> list[Outcome]:
    """``noop`` jobs of one shape sharing their steps: each reports, cancels and fails alone."""
    params = [NoopParams.model_validate(ctx.job.params) for ctx in contexts]
    steps, sleep_s = params[0].steps, params[0].sleep_s
    outcomes: list[Outcome] = [None] * len(contexts)
    live = list(range(len(contexts)))
    for step in range(1, steps + 1):
        if sleep_s:
            time.sleep(sleep_s)
        for index in list(live):
            try:
                contexts[index].report(step, steps, f"step {step}")
            except JobCancelled as cancelled:
                outcomes[index] = cancelled
                live.remove(index)
    for index in live:
        if params[index].fail:
            outcomes[index] = InvalidInput("noop job asked to fail", field="params.fail")
        else:
            job = contexts[index].job
            outcomes[index] = {"steps": steps, "attempt": job.attempts, "batchSize": len(contexts)}
    return outcomes


def _noop_key(job: Job) -> Hashable:
    params = NoopParams.model_validate(job.params)
    return (params.steps, params.sleep_s, params.batch)


NOOP_BATCH = BatchRule(
    group="noop",
    key=_noop_key,
    limit=lambda job: NoopParams.model_validate(job.params).batch,
    run=noop_batch,
)
