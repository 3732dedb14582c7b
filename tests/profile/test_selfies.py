"""Where selfies wait for their jobs: the in-memory inbox and the kept store's retention."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from imajin.errors import InvalidInput, NotFound
from imajin.gateway.selfies import SelfieGone, SelfieInbox, SelfieStore


def test_inbox_hands_each_selfie_over_once() -> None:
    inbox = SelfieInbox()
    selfie_id = inbox.put(b"pixels")
    assert inbox.take(selfie_id) == b"pixels"
    with pytest.raises(SelfieGone, match="keep_selfies"):
        inbox.take(selfie_id)
    other = inbox.put(b"more")
    inbox.discard(other)
    assert len(inbox) == 0


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
