"""The Celery route of an engine job: its model id (warm-model affinity)."""

from __future__ import annotations

MAX_ROUTE = 128


def route_for_model(model_id: str) -> str:
    """The route of a job that runs ``model_id``: workers started with it among their queues
    (``imajin worker --queues default,<route>``) keep that model warm and get its jobs.

    One rule for every kind (variations, studio, gateway), so one worker serves a model's
    jobs whatever endpoint queued them.
    """
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in model_id)[:MAX_ROUTE]
    return cleaned or "default"
