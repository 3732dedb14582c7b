"""The contracts stand alone, and the server speaks exactly them: client and server cannot drift."""

from __future__ import annotations

import ast
import sys
import typing
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import BaseRoute

import imajin.contracts
from imajin.client.sse import EventDecoder
from imajin.contracts.events import JOB_TERMINAL_EVENTS, EventPublic
from imajin.contracts.variations import FAMILY_NAMES
from imajin.events.models import Event, JobEvent
from imajin.events.sse import format_event
from imajin.imaging.sizes import FAMILY_NAMES as IMAGING_FAMILY_NAMES

CONTRACTS = Path(imajin.contracts.__file__).parent
# Routes whose answer is not JSON of a model: files, streams, metrics, the web UI's pages.
FREE_FORM = {"/metrics", "/api/analytics"}


def top_level_imports(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module if node.level == 0 else f"<relative>.{node.module}")
    return found


@pytest.mark.parametrize("path", sorted(CONTRACTS.glob("*.py")), ids=lambda path: path.name)
def test_a_contract_imports_only_pydantic_the_stdlib_and_other_contracts(path: Path) -> None:
    def allowed(module: str) -> bool:
        root = module.split(".", maxsplit=1)[0]
        return (
            module == "imajin.contracts"
            or module.startswith("imajin.contracts.")
            or root == "pydantic"
            or root in sys.stdlib_module_names
            or module == "__future__"
        )

    assert sorted(m for m in top_level_imports(path) if not allowed(m)) == []


def test_the_family_names_are_the_imaging_tables() -> None:
    assert FAMILY_NAMES == IMAGING_FAMILY_NAMES


def test_the_event_stream_shape_is_the_servers_event() -> None:
    event = Event(
        id=7,
        type=JobEvent.SUCCEEDED,
        job_id="j1",
        subject="b1",
        payload={"status": "succeeded"},
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    decoder = EventDecoder()
    decoded = [decoder.feed(line) for line in format_event(event).split("\n")]
    [public] = [item for item in decoded if item is not None]

    assert public == EventPublic(
        id=7,
        type="JOB_SUCCEEDED",
        job_id="j1",
        subject="b1",
        payload={"status": "succeeded"},
        created_at=event.created_at,
    )
    assert set(EventPublic.model_fields) == set(Event.model_fields)
    assert frozenset(JobEvent.TERMINAL) == JOB_TERMINAL_EVENTS


def models_in(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models an annotation names (``list[X]``, ``Page[X]``, ``X | Y``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        metadata = annotation.__pydantic_generic_metadata__
        if metadata["origin"] is not None:
            return [metadata["origin"], *(m for a in metadata["args"] for m in models_in(a))]
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in models_in(arg)]


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """The API routes, inside included routers too (FastAPI includes them lazily)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from api_routes(inner.routes)


def test_every_route_answers_and_reads_contract_models(app: FastAPI) -> None:
    routes = [r for r in api_routes(app.routes) if r.path not in FREE_FORM]
    used: dict[str, set[str]] = {}
    for route in routes:
        annotations = [route.response_model]
        if route.body_field is not None:
            annotations.append(route.body_field.field_info.annotation)
        for model in (m for a in annotations for m in models_in(a)):
            used.setdefault(model.__module__, set()).add(f"{route.path}: {model.__name__}")

    outside = {
        module: names
        for module, names in used.items()
        if not module.startswith("imajin.contracts.")
    }
    assert outside == {}
    # The check saw the routes it is about.
    assert {
        "imajin.contracts.variations",
        "imajin.contracts.studio",
        "imajin.contracts.jobs",
    } <= set(used)
    assert {
        "imajin.contracts.assistant",
        "imajin.contracts.gateway",
        "imajin.contracts.keys",
    } <= set(used)
