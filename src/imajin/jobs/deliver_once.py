"""Result keys a job delivers once, then forgets (e.g. a selfie's features, SPEC §6.2).

A handler names them (:meth:`JobContext.deliver_once`). The job's row holds them until
their first delivery: the waiter that sees the job end (``JobService.wait``, so the
gateway request that was waiting), else the first ``GET /api/jobs/{id}`` after it ended.
A reader after that, or after ``ttl_s`` past the job's end, gets the key with a null
value; the retention sweep drops unread ones by then. Listings never show them. The
result's ``deliverOnce`` names the keys, so a null says why it is null.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DELIVER_ONCE_KEY = "deliverOnce"


@dataclass(frozen=True)
class DeliverOnce:
    """Which result keys are delivered once, and how long an unread one may wait."""

    keys: tuple[str, ...]
    ttl_s: float


def mark(result: dict[str, Any], once: DeliverOnce) -> dict[str, Any]:
    """``result`` as stored: naming the keys it delivers once."""
    return {**result, DELIVER_ONCE_KEY: list(once.keys)}


def scrub(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """``result`` without the values of its deliver-once keys (null in their place)."""
    if result is None:
        return None
    keys = result.get(DELIVER_ONCE_KEY) or []
    return {**result, **{key: None for key in keys if key in result}}
