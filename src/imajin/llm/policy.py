"""How one model is called: limits, sampling, and bounded retries with backoff."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from imajin.config.llm import CallPolicy
from imajin.llm.errors import LLMUpstreamError

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _should_retry(error: LLMUpstreamError, policy: CallPolicy, attempt: int, what: str) -> bool:
    if not error.retryable or attempt > policy.retries:
        return False
    logger.warning(
        "%s failed (attempt %d of %d), retrying: %s",
        what,
        attempt,
        policy.retries + 1,
        error.message,
        extra={"llm_status": error.status},
    )
    return True


def call_with_retries(call: Callable[[], T], *, policy: CallPolicy, what: str) -> T:
    """Run ``call``, retrying retryable :class:`LLMUpstreamError` with exponential backoff.

    Args:
        call: The blocking call.
        policy: Supplies the retry count and backoff.
        what: Names the call in log lines ("model 'x'").

    Raises:
        LLMUpstreamError: The last failure, once retries are exhausted or it is not retryable.
    """
    attempt = 1
    while True:
        try:
            return call()
        except LLMUpstreamError as error:
            if not _should_retry(error, policy, attempt, what):
                raise
        time.sleep(policy.backoff(attempt))
        attempt += 1


async def acall_with_retries(
    call: Callable[[], Awaitable[T]], *, policy: CallPolicy, what: str
) -> T:
    """The async twin of :func:`call_with_retries`; waits with ``asyncio.sleep``."""
    attempt = 1
    while True:
        try:
            return await call()
        except LLMUpstreamError as error:
            if not _should_retry(error, policy, attempt, what):
                raise
        await asyncio.sleep(policy.backoff(attempt))
        attempt += 1
