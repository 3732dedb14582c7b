"""Numbers and booleans in JSON bodies are taken as sent: no `true` for 3, no "3" for 3.

Query and path parameters arrive as text and keep being parsed (``?limit=5``).
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.store.migrate import upgrade
from imajin.wiring import build_platform

LAX_INTS: list[Any] = [True, "3", 3.5, "3.0"]
LAX_FLOATS: list[Any] = [True, "3.5"]
LAX_BOOLS: list[Any] = ["true", 1, "yes"]
BAD = {"int": LAX_INTS, "float": LAX_FLOATS, "bool": LAX_BOOLS}

# (method, path, a body that passes validation, the status it gets, the fields to spoil:
# dotted path in the body and its kind). A status of None: any answer but 422 (a stored
# row or a pipeline it names is missing); ASKS_THE_LLM: not sent whole (it would run the
# local LLM for minutes), only spoiled.
ASKS_THE_LLM = -1
PROMPT = "a lighthouse on a cliff"
INSTANCE = {
    "instanceName": "shop",
    "factorWeights": {"season": 0.5},
    "extractionGoals": ["style"],
    "maturityPolicy": {
        "allowExplicitContent": False,
        "defaultMinimum": "sfw",
        "defaultMaximum": "sfw",
    },
}
ENDPOINTS: list[tuple[str, str, dict[str, Any], int | None, list[tuple[str, str]]]] = [
    (
        "PUT",
        "/api/config",
        {"steps": 4, "guidance": 7, "webp_quality": 80},
        200,
        [("steps", "int"), ("guidance", "float"), ("webp_quality", "int")],
    ),
    (
        "POST",
        "/api/generate",
        {
            "prompt": PROMPT,
            "width": 64,
            "height": 64,
            "steps": 2,
            "guidance": 7.5,
            "seed": 3,
            "num_images": 1,
        },
        202,
        [
            ("width", "int"),
            ("height", "int"),
            ("steps", "int"),
            ("guidance", "float"),
            ("seed", "int"),
            ("num_images", "int"),
        ],
    ),
    (
        "POST",
        "/api/generate",
        {"prompt": PROMPT, "loras": [{"id": "detail", "weight": 0.5}]},
        None,
        [("loras.0.weight", "float")],
    ),
    (
        "POST",
        "/api/generate/batch",
        {"set_name": "playing-cards", "seed": 1, "priority": 2},
        202,
        [("seed", "int"), ("priority", "int")],
    ),
    (
        "POST",
        "/api/images/variations",
        {"name": "cliff", "generation": {"prompt": PROMPT, "seed": 3, "inferenceSteps": 4}},
        202,
        [("generation.seed", "int"), ("generation.inferenceSteps", "int")],
    ),
    (
        "POST",
        "/api/images/variations",
        {"name": "cliff2", "generation": {"prompt": PROMPT, "guidanceScale": 7}},
        202,
        [("generation.guidanceScale", "float")],
    ),
    (
        "POST",
        "/api/images/variations/missing/regenerate",
        {"newSeed": True},
        None,
        [("newSeed", "bool")],
    ),
    (
        "POST",
        "/generate-prompts",
        {"pipelineId": "missing", "count": 2, "seed": 1, "cache": False},
        None,
        [("count", "int"), ("seed", "int"), ("cache", "bool")],
    ),
    (
        "POST",
        "/analyze-context",
        {"category": "shoes", "cache": True, "instanceConfig": INSTANCE},
        ASKS_THE_LLM,
        [
            ("cache", "bool"),
            ("instanceConfig.maturityPolicy.allowExplicitContent", "bool"),
            ("instanceConfig.factorWeights.season", "float"),
        ],
    ),
    (
        "POST",
        "/v1/imagegen",
        {"prompt": PROMPT, "width": 64, "steps": 2, "guidance": 7.0, "seed": 1},
        202,
        [("width", "int"), ("steps", "int"), ("guidance", "float"), ("seed", "int")],
    ),
    (
        "POST",
        "/v1/chat/1to1/imagegen",
        {"message": PROMPT, "seed": 1, "height": 64},
        202,
        [("seed", "int"), ("height", "int")],
    ),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    # One server for the module (a hundred cases); no job workers: accepted jobs stay
    # queued and nothing loads a model. The gateway answers 202 {job_id} at once rather
    # than waiting two minutes for a job no worker takes.
    tmp_path = tmp_path_factory.mktemp("strict")
    environ = {
        "IMAJIN_DATA_DIR": str(tmp_path / "data"),
        "IMAJIN_JOBS__WORKERS": "0",
        "IMAJIN_GATEWAY__ENDPOINTS__IMAGEGEN__TIMEOUT_S": "0.2",
        "IMAJIN_GATEWAY__ENDPOINTS__CHAT_1TO1__TIMEOUT_S": "0.2",
    }
    platform = build_platform(load_settings(environ=environ, cwd=tmp_path))
    upgrade(platform.database)
    yield create_app(platform)
    platform.close()


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``body`` with the value at dotted ``path`` replaced."""
    copy: Any = _copy(body)
    *parents, last = path.split(".")
    node = copy
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return dict(copy)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


SPOILED = [
    pytest.param(method, path, body, field, bad, id=f"{method} {path} {field}={bad!r}")
    for method, path, body, _status, fields in ENDPOINTS
    for field, kind in fields
    for bad in BAD[kind]
]


@pytest.mark.parametrize(("method", "path", "body", "field", "bad"), SPOILED)
def test_a_number_or_boolean_of_another_json_type_is_refused_naming_the_field(
    client: TestClient, method: str, path: str, body: dict[str, Any], field: str, bad: Any
) -> None:
    response = client.request(method, path, json=_with(body, field, bad))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["field"] == field
    assert error["message"].startswith(f"`{field}`: Input should be a valid")


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        pytest.param(method, path, body, status, id=f"{method} {path} {sorted(body)}")
        for method, path, body, status, _fields in ENDPOINTS
        if status != ASKS_THE_LLM
    ],
)
def test_the_right_json_types_still_pass(
    client: TestClient, method: str, path: str, body: dict[str, Any], status: int | None
) -> None:
    response = client.request(method, path, json=body)
    if status is None:
        assert response.status_code != 422, response.text
    else:
        assert response.status_code == status, response.text


def test_an_integral_float_field_takes_a_json_integer(client: TestClient) -> None:
    response = client.put("/api/config", json={"guidance": 7})
    assert response.status_code == 200, response.text
    assert response.json()["guidance"] == 7.0


def test_a_whole_json_number_is_an_integer_as_json_schema_says(client: TestClient) -> None:
    # JSON Schema's `integer` (the OpenAPI document's word) admits 3.0; the fuzz sends it.
    response = client.put("/api/config", json={"steps": 3.0, "webp_quality": 90.0})
    assert response.status_code == 200, response.text
    assert (response.json()["steps"], response.json()["webp_quality"]) == (3, 90)


def test_query_parameters_are_still_parsed_from_text(client: TestClient) -> None:
    response = client.get("/api/jobs", params={"limit": "5", "offset": "0"})
    assert response.status_code == 200, response.text
    assert response.json()["limit"] == 5


def _bare(annotation: Any) -> Any:
    """``X`` from ``X | None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        return options[0] if len(options) == 1 else annotation
    return annotation


def _scalar_fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """Every int, float or bool field of ``model`` and of the models it nests."""
    for name, info in model.model_fields.items():
        bare = _bare(info.annotation)
        inner = get_args(bare)[0] if get_origin(bare) is list and get_args(bare) else bare
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from _scalar_fields(inner, f"{prefix}{name}.")
        elif TypeAdapter(bare).json_schema().get("type") in ("integer", "number", "boolean"):
            yield f"{prefix}{name}", info


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        # An included router is kept whole (FastAPI's _IncludedRouter): its own routes.
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from _api_routes(router.routes)


def _body_models(app: FastAPI) -> set[type[BaseModel]]:
    models = set()
    for route in _api_routes(app.routes):
        if route.body_field is not None:
            annotation = _bare(route.body_field.field_info.annotation)
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                models.add(annotation)
    return models


def test_every_number_and_boolean_of_every_request_body_is_strict(app: FastAPI) -> None:
    # The table above names some fields; this walk catches a field added later without
    # a strict type (its string form must be refused).
    checked, lax = 0, []
    for model in _body_models(app):
        for name, info in _scalar_fields(model):
            # A bare `StrictInt` field keeps its `Strict` in the metadata, not the annotation.
            adapter: TypeAdapter[Any] = TypeAdapter(info.rebuild_annotation())
            checked += 1
            try:
                adapter.validate_python("1")
            except ValidationError:
                continue
            lax.append(f"{model.__name__}.{name}")
    assert checked >= 20
    assert lax == []
