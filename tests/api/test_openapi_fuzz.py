"""Property-based fuzzing of every operation in ``/openapi.json`` (schemathesis).

Each operation gets schema-valid and schema-violating requests from a fixed seed
(``derandomize``), a bounded number per operation, sent to the real app in process.
Every response must be below 500, have a status code and a body the schema
declares for it, accept what the schema says is valid and reject what it says is
not. The platform runs with no job workers, so queued generations never start: the
fuzz checks the HTTP contract, not the engine.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hypothesis.strategies._internal.random  # noqa: F401  # see below
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.schemas import APIOperation

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.config.settings import Scope, Settings
from imajin.llm.testing import FakeOpenAIServer
from imajin.store.migrate import upgrade
from imajin.wiring import Platform, build_platform
from tests.profile.conftest import vision_server

# Imported here, not lazily by `st.randoms()` deep inside a negative multipart draw, where
# CPython 3.11's parser fails ("AST constructor recursion depth mismatch").

FuzzCase = Case[APIOperation[Any, Any, Any, Any]]

EXAMPLES_PER_OPERATION = 10
ADMIN_EXAMPLES_PER_OPERATION = 4
STREAM_S = 0.3

ENVIRON = {
    # No worker threads: a queued job stays queued, so no request loads a model.
    "IMAJIN_JOBS__WORKERS": "0",
    # The assistant and the gateway's prompt steps answer from the scripted backend
    # (schema-shaped minimal answers) instead of loading the embedded LLM.
    "IMAJIN_LLM__MODELS": json.dumps({"smollm2": {"backend": "scripted", "options": {}}}),
    # With no workers a gateway request waits its whole timeout before its 202.
    "IMAJIN_GATEWAY__ENDPOINTS": json.dumps(
        {
            name: {"policy": policy, "timeout_s": 0.01, "capacity": 4}
            for name, policy in (
                ("chat_1to1", "unrestricted"),
                ("shorts", "moderated"),
                ("scenes", "moderated"),
                ("imagegen", "sfw"),
                ("profile", "sfw"),
            )
        }
    ),
}


# Fields whose accepted values the server knows only at run time, so no schema can list
# them: installed model ids, the deployer's assistant instances (an inline instance also
# has cross-field rules: goal names unique, `reasoning` reserved), the gateway's
# configured limits (gateway.max_history_turns and max_message_chars, below the
# schema's hard caps), the models training accepts as a `base` (SD 1.5 and SDXL ids),
# and uploaded training `images` (whether the bytes decode as an image). A schema-valid
# value the server refuses there is a 422 naming the field; any other 422 on a
# schema-valid request means the schema promises more than the server accepts.
# A selfie's bytes must be a real JPEG, PNG or WebP: a schema can only say "binary".
# Profile `features` follow the feature schema, the operator's file (vision.features_file).
RUN_TIME_FIELDS = (
    "model",
    "generation.model",
    "instanceConfig",
    "instance",
    "history",
    "message",
    "base",
    "images",
    "selfie",
    "features",
)


@schemathesis.check
def schema_valid_requests_accepted(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: FuzzCase
) -> bool | None:
    """``positive_data_acceptance``, but a run-time catalogue may refuse a value it lacks."""
    field = _error_field(response)
    if response.status_code == 422 and isinstance(field, str) and field.startswith(RUN_TIME_FIELDS):
        return None
    accepted: bool | None = positive_data_acceptance(ctx, response, case)
    return accepted


def _error_field(response: schemathesis.Response) -> object:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("field") if isinstance(error, dict) else None


def _settings(data_dir: Path, vision: FakeOpenAIServer | None = None) -> Settings:
    environ = {"IMAJIN_DATA_DIR": str(data_dir), **ENVIRON}
    if vision is not None:
        # A vision model (a local server speaking its protocol): with none, /create is 503.
        models = {
            **json.loads(ENVIRON["IMAJIN_LLM__MODELS"]),
            "vlm": {
                "backend": "openai",
                "options": {"base_url": vision.base_url, "model": "x", "vision": True},
            },
        }
        environ.update(IMAJIN_LLM__MODELS=json.dumps(models), IMAJIN_VISION__FEATURES_MODEL="vlm")
    return load_settings(environ=environ, cwd=data_dir)


def _load_schema(*, phases: list[str]) -> schemathesis.BaseSchema:
    """The app's OpenAPI document, read from an app built for it and closed at once.

    The schema is needed at collection time (one test per operation); the requests go
    to the app of ``fuzz_app``, built per module inside pytest's temporary folder.
    """
    with tempfile.TemporaryDirectory() as folder:
        platform = build_platform(_settings(Path(folder)))
        try:
            app = create_app(platform)
            document = app.openapi()
        finally:
            platform.close()
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = app  # in-process (ASGI) transport; each call names the live app
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES_PER_OPERATION,
        deterministic=True,
        database="none",
    )
    loaded.config.phases.update(phases=phases)
    # The coverage phase sends each boundary once (longest strings, extreme numbers,
    # methods no route has); schema-valid ones only: its negative cases are many.
    loaded.config.phases.coverage.generation.update(modes=[GenerationMode.POSITIVE])
    return loaded


schema = _load_schema(phases=["examples", "coverage", "fuzzing"])
admin_schema = _load_schema(phases=["examples", "fuzzing"])


@contextmanager
def _serving(data_dir: Path) -> Iterator[FastAPI]:
    with vision_server() as vision:
        platform = build_platform(_settings(data_dir, vision))
        upgrade(platform.database)
        app = create_app(platform)
        try:
            with TestClient(app):  # runs the lifespan: the platform starts as under uvicorn
                yield app
        finally:
            platform.close()


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One app for the module: what one operation creates, the next ones find."""
    with _serving(tmp_path_factory.mktemp("fuzz") / "data") as app:
        yield app


@pytest.fixture
def fuzz_app(
    request: pytest.FixtureRequest, shared_app: FastAPI, tmp_path: Path
) -> Iterator[FastAPI]:
    """The shared app, but a fresh one for the key routes: the first key created turns
    auth on, and every later operation would only see 401."""
    if "/api/keys" not in request.node.name:
        yield shared_app
        return
    with _serving(tmp_path / "data") as app:
        yield app


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    """An app with auth on (one admin key), and that key."""
    with _serving(tmp_path_factory.mktemp("fuzz-admin") / "data") as app:
        platform: Platform = app.state.platform
        _record, secret = platform.keys.create(scopes=[Scope.ADMIN], name="fuzz")
        yield app, secret


@schema.parametrize()
@settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(case: FuzzCase, fuzz_app: FastAPI) -> None:
    # An event stream never ends on its own: it is read for STREAM_S, then cut; what it
    # sent by then is checked (status, content type, headers).
    streaming = case.operation.path.endswith("/events")
    case.call_and_validate(
        app=fuzz_app,
        timeout=STREAM_S if streaming else None,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[schema_valid_requests_accepted],
    )


@admin_schema.parametrize()
@settings(
    max_examples=ADMIN_EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract_with_auth_on(
    case: FuzzCase, admin_app: tuple[FastAPI, str]
) -> None:
    """The same checks with an admin key: auth on, every scope granted."""
    app, secret = admin_app
    streaming = case.operation.path.endswith("/events")
    response = case.call_and_validate(
        app=app,
        headers={"Authorization": f"Bearer {secret}"},
        timeout=STREAM_S if streaming else None,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[schema_valid_requests_accepted],
    )
    assert response.status_code not in (401, 403), "the admin key was not accepted"
