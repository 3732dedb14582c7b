"""Worker identity and liveness, shared by both dispatchers."""

from __future__ import annotations

import os
import secrets
import socket

_HOST = socket.gethostname()
# A random token per process: after a restart the same pid (common in containers)
# must not look like the process that owned the jobs before.
_BOOT = secrets.token_hex(4)


def worker_id(name: str) -> str:
    """``host:pid:boot:name`` — unique per process and thread."""
    return f"{_HOST}:{os.getpid()}:{_BOOT}:{name}"


def is_dead_local_worker(worker: str) -> bool:
    """True when ``worker`` ran on this host in a process that no longer exists.

    Workers on other hosts are judged by heartbeat age instead.
    """
    parts = worker.split(":", 3)
    if len(parts) != 4 or parts[0] != _HOST:
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return parts[2] != _BOOT
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
