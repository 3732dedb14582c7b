"""What ``/openapi.json`` says each operation answers, errors included.

Routes declare the errors only they answer (``responses=error_responses(404, 409)``);
the errors every route of a kind answers are added here, once, from the route
itself: 401/403 where an auth dependency guards it, 400/413 where it reads a
body, and our error envelope (not FastAPI's ``HTTPValidationError``) for 422.
The schemathesis fuzz (tests/api/test_openapi_fuzz.py) holds every answer to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

ERROR_SCHEMA = "ErrorBody"
_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}


class ErrorDetail(BaseModel):
    """The ``error`` object. Some codes add keys (``retryAfter``, ``reason``, ``details``)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable, machine-readable (e.g. `not_found`, `queue_full`).")
    message: str = Field(description="For people: what went wrong and how to fix it.")
    field: str | None = Field(None, description="The request field at fault, when one is.")
    request_id: str | None = Field(
        alias="requestId", description="The X-Request-ID of the request, as in the server log."
    )


class ErrorBody(BaseModel):
    """Every error answer: ``{"error": {...}}``."""

    error: ErrorDetail


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before sending the request again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": {"type": "string"}}}

_DESCRIPTIONS = {
    400: "Malformed request (a body that is not UTF-8 JSON, a path outside its root).",
    401: "An API key is required (auth is on) and none valid was sent.",
    403: "The API key lacks the scope this operation needs.",
    404: "Nothing has this id or name.",
    409: "The request conflicts with the current state (name taken, job finished, last key).",
    413: "The body is over `server.max_body_bytes` (a selfie: `gateway.profile.max_bytes`).",
    422: "The request is invalid: the message and `field` say what to change.",
    429: "The queue is full; retry after `Retry-After` seconds.",
    502: "A service the request needs (the LLM) failed.",
    503: "A service the request needs is unavailable.",
    504: "A step of the request took too long.",
}
_HEADERS: dict[int, dict[str, Any]] = {401: _WWW_AUTHENTICATE, 429: _RETRY_AFTER}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for error codes, each with the error envelope as its body."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[code]}
        if code in _HEADERS:
            entry["headers"] = _HEADERS[code]
        responses[code] = entry
    return responses


def _error_entry(code: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "description": _DESCRIPTIONS[code],
        "content": {"application/json": {"schema": _ERROR_REF}},
    }
    if code in _HEADERS:
        entry["headers"] = _HEADERS[code]
    return entry


def _is_guarded(dependant: Dependant) -> bool:
    """Whether an auth check (``imajin.api.auth.require``) is among the dependencies."""
    return any(
        getattr(dependency.call, "required_scope", None) is not None or _is_guarded(dependency)
        for dependency in dependant.dependencies
    )


def _operations(app: FastAPI, paths: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Each route (with its router's prefix and dependencies) and its operation object."""
    for route in routing.iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = paths.get(route.path_format or "", {}).get(method.lower())
            if operation is not None:
                yield route, operation


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter is absent or has a value: ``null`` is not a value a URL or header carries."""
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return schema
    kept = [option for option in options if option.get("type") != "null"]
    if len(kept) == len(options):
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**rest, **kept[0]} if len(kept) == 1 else {**rest, "anyOf": kept}


def _complete(route: Any, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    codes: list[int] = []
    if _is_guarded(route.dependant):
        codes += [401, 403]
    if route.body_field is not None:
        codes += [400, 413]
    if route.body_field is not None or operation.get("parameters") or "422" in responses:
        codes.append(422)  # FastAPI documents its own 422 body; ours is the error envelope
    for code in codes:
        if code == 422 or str(code) not in responses:
            responses[str(code)] = _error_entry(code)
    for parameter in operation.get("parameters", []):
        if "schema" in parameter:
            parameter["schema"] = _without_null(parameter["schema"])


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app``, built once, with every operation's errors."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )
    for route, operation in _operations(app, document.get("paths", {})):
        _complete(route, operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(
        by_alias=True, ref_template="#/components/schemas/{model}"
    )
    schemas.update(error_schema.pop("$defs", {}))
    schemas[ERROR_SCHEMA] = error_schema
    # FastAPI's own validation body is never sent: our 422 replaced it everywhere.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    app.openapi_schema = document
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve :func:`openapi_document` at ``/openapi.json`` (and in ``/docs``)."""

    def build() -> dict[str, Any]:
        return openapi_document(app)

    app.openapi = build  # type: ignore[method-assign]  # FastAPI's documented override
