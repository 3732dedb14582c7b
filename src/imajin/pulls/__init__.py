"""Fetching manifest models from the hub, as a job with progress (``POST .../pull``)."""

from imajin.pulls.service import PULL_JOB, PULL_QUEUE, PullService, make_pull_handler

__all__ = ["PULL_JOB", "PULL_QUEUE", "PullService", "make_pull_handler"]
