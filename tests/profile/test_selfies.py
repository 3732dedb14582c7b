"""Where selfies wait for their jobs: the in-memory inbox and the kept store's retention."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imajin.errors import InvalidInput, NotFound
from imajin.gateway.selfies import SelfieCarrier, SelfieGone, SelfieInbox, SelfieStore
from imajin.jobs.models import Job, JobStatus


def test_inbox_hands_each_selfie_over_once() -> None:
    inbox = SelfieInbox()
    selfie_id = inbox.put(b"pixels")
    assert inbox.take(selfie_id) == b"pixels"
    with pytest.raises(SelfieGone, match="keep_selfies"):
        inbox.take(selfie_id)
    other = inbox.put(b"more")
    inbox.discard(other)
    assert len(inbox) == 0


def _profile_job(selfie_id: str | None) -> Job:
    params = {
        "endpoint": "profile",
        "policy": "sfw",
        "model": "m",
        "threshold": 0.5,
        "action": "analyze",
        "selfie_id": selfie_id,
    }
    return Job.model_validate(
        {
            "id": "j1",
            "kind": "profile",
            "queue": "profile",
            "route": "m",
            "priority": 0,
            "status": JobStatus.QUEUED,
            "attempts": 0,
            "max_attempts": 1,
            "progress": {"step": 0, "total": 0, "message": ""},
            "params": params,
            "result": None,
            "error": None,
            "cancel_requested": False,
            "worker_id": None,
            "group_id": None,
            "created_at": datetime.now(UTC),
            "started_at": None,
            "finished_at": None,
            "heartbeat_at": None,
        }
    )


def test_carrier_sends_an_inbox_selfie_with_its_message_then_forgets_it() -> None:
    inbox = SelfieInbox()
    selfie_id = inbox.put(b"pixels")
    carrier = SelfieCarrier(inbox)
    job = _profile_job(selfie_id)
    assert carrier.outgoing(job) == b"pixels"
    assert carrier.outgoing(job) == b"pixels"  # a failed send leaves it for the pump
    carrier.sent(job)
    assert len(inbox) == 0 and carrier.outgoing(job) is None
    with pytest.raises(SelfieGone, match="keep_selfies"):
        inbox.take(selfie_id)  # what a job sent again without its message then meets
    assert carrier.outgoing(_profile_job(None)) is None


def test_inbox_forgets_what_nobody_took() -> None:
    inbox = SelfieInbox(ttl_s=0.05)
    forgotten = inbox.put(b"old")
    time.sleep(0.1)
    kept = inbox.put(b"new")  # each put drops the stale ones
    assert len(inbox) == 1 and inbox.take(kept) == b"new"
    with pytest.raises(SelfieGone):
        inbox.take(forgotten)


def test_store_keeps_until_retention_or_delete(tmp_path: Path) -> None:
    store = SelfieStore(tmp_path / "selfies", retention_days=1)
    old, fresh = store.put(b"old"), store.put(b"fresh")
    two_days_ago = time.time() - 2 * 86400
    os.utime(tmp_path / "selfies" / old, (two_days_ago, two_days_ago))
    assert store.sweep() == 1
    with pytest.raises(SelfieGone):
        store.take(old)
    assert store.take(fresh) == b"fresh"  # taking does not remove a kept selfie
    store.delete(fresh)
    with pytest.raises(NotFound):
        store.delete(fresh)
    with pytest.raises(InvalidInput, match="selfie_id"):
        store.take("../../etc/passwd")
