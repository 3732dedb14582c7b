"""The batch studio's endpoints (SPEC §5): config, generate, batches, sets, outputs, themes.

A batch's jobs are the job endpoints' (:mod:`imajin.client.calls_jobs`), by ``group_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from imajin.client.call import Call, Query, body, json_as, raw_bytes, segment, validated
from imajin.contracts.studio import (
    BatchCreate,
    BatchCreated,
    BatchDetail,
    BatchPage,
    GenerateAccepted,
    GenerateRequest,
    SetInfo,
    SetSummary,
    StudioConfigPublic,
    StudioConfigUpdate,
    Theme,
)

__all__ = [
    "create_batch",
    "generate",
    "get_batch",
    "get_config",
    "get_output",
    "get_set",
    "list_batches",
    "list_sets",
    "random_theme",
    "update_config",
]


def get_config() -> Call[StudioConfigPublic]:
    """``GET /api/config``: the studio defaults in force."""
    return Call("GET", "/api/config", json_as(StudioConfigPublic))


def update_config(
    update: StudioConfigUpdate | Mapping[str, Any],
) -> Call[StudioConfigPublic]:
    """``PUT /api/config`` (admin): change the fields given; the result is checked as a whole."""
    payload = body(validated(StudioConfigUpdate, update))
    return Call("PUT", "/api/config", json_as(StudioConfigPublic), json=payload)


def generate(request: GenerateRequest | Mapping[str, Any]) -> Call[GenerateAccepted]:
    """``POST /api/generate``: queue images from one prompt; 202 with the job id."""
    payload = body(validated(GenerateRequest, request))
    return Call("POST", "/api/generate", json_as(GenerateAccepted), json=payload, ok=(202,))


def create_batch(
    set_name: str, *, user_theme: str = "", seed: int | None = None, priority: int = 0
) -> Call[BatchCreated]:
    """``POST /api/generate/batch``: every row of a set with a theme (all queued or none)."""
    request = BatchCreate(set_name=set_name, user_theme=user_theme, seed=seed, priority=priority)
    return Call(
        "POST",
        "/api/generate/batch",
        json_as(BatchCreated),
        json=request.model_dump(mode="json", exclude_none=True),
        ok=(202,),
    )


def list_sets() -> Call[list[SetSummary]]:
    """``GET /api/sets``."""
    return Call("GET", "/api/sets", json_as(list[SetSummary]))


def get_set(name: str, *, theme: str | None = None) -> Call[SetInfo]:
    """``GET /api/sets/{name}/info``: the set and each row's prompt with ``theme``.

    Args:
        name: The set's name.
        theme: The theme the prompts are shown with; None: the set's example theme.
    """
    params: Query = {"theme": theme} if theme is not None else {}
    return Call("GET", f"/api/sets/{segment(name)}/info", json_as(SetInfo), params=params)


def list_batches(*, limit: int = 50, offset: int = 0) -> Call[BatchPage]:
    """``GET /api/batches``: newest first."""
    params: Query = {"limit": limit, "offset": offset}
    return Call("GET", "/api/batches", json_as(BatchPage), params=params)


def get_batch(batch_id: str) -> Call[BatchDetail]:
    """``GET /api/batches/{id}``: the batch and each item's state and files."""
    return Call("GET", f"/api/batches/{segment(batch_id)}", json_as(BatchDetail))


def get_output(path: str) -> Call[bytes]:
    """``GET /api/outputs/{path}``: an output file's bytes.

    Args:
        path: Relative to the outputs root, as the batch items' URLs name it
            (``/api/outputs/`` may be left on).
    """
    relative = path.removeprefix("/api/outputs/")
    return Call("GET", f"/api/outputs/{quote(relative, safe='/')}", raw_bytes)


def random_theme() -> Call[Theme]:
    """``GET /api/themes/random``: a theme to try."""
    return Call("GET", "/api/themes/random", json_as(Theme))
