"""Errors the job system raises, on top of :mod:`imajin.errors`.

Each is also the generic error an HTTP client already knows (``NotFound`` → 404,
``Overloaded`` → 429 …) and keeps that error's ``code``, so bodies do not change.
"""

from __future__ import annotations

from imajin.errors import Conflict, ImajinError, InvalidInput, NotFound, Overloaded


class JobsError(ImajinError):
    """Base of every error the job system raises."""

    code = "jobs_error"


class JobNotFound(JobsError, NotFound):
    """No job has this id."""

    code = NotFound.code


class JobFinished(JobsError, Conflict):
    """The job has already finished; it cannot be cancelled."""

    code = Conflict.code


class UnknownJobKind(JobsError, InvalidInput):
    """No handler is registered for the job's kind (or there is nothing to submit)."""

    code = InvalidInput.code


class QueueFull(JobsError, Overloaded):
    """A bounded queue is full; retry after ``retry_after`` seconds."""

    code = Overloaded.code
