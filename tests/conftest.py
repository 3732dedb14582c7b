"""Fixtures shared by the whole suite: settings, databases (SQLite and PostgreSQL), apps."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect

from imajin.api.app import create_app
from imajin.config.loader import load_settings
from imajin.config.settings import Settings
from imajin.store.database import Database, normalize_url
from imajin.store.migrate import upgrade
from imajin.wiring import Platform, build_platform

if TYPE_CHECKING:
    from imajin.llm.backends.transformers_gguf import TransformersGGUFBackend

# Tiny random-weight pipelines of the real architectures, built once per session.
pytest_plugins = ["imajin.testing.pytest_plugin"]

POSTGRES_URL = os.environ.get("IMAJIN_TEST_POSTGRES_URL")
# The store suite runs on SQLite always and on PostgreSQL when its URL is set.
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


@pytest.fixture(scope="session")
def embedded_backend() -> Iterator[TransformersGGUFBackend]:
    """The real embedded LLM (SmolLM2-135M GGUF), loaded once per session (~25 s on 2 cores).

    Modules wrap it in the LLMClient their code uses (call policy, prompt guard).
    """
    from imajin.llm.backends.transformers_gguf import (  # noqa: PLC0415  # loads torch
        TransformersGGUFBackend,
        TransformersGGUFOptions,
    )

    backend = TransformersGGUFBackend(TransformersGGUFOptions())
    backend.load()
    yield backend
    backend.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings from the shipped defaults with a private data directory."""
    return load_settings(environ={"IMAJIN_DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path)


# The schemas this process created. Only those are checked at the end: under pytest-xdist
# another worker's schemas exist while its tests run, and they are its to drop.
_CREATED_SCHEMAS: set[str] = set()


def _postgres_schemas() -> set[str]:
    assert POSTGRES_URL is not None
    engine = create_engine(normalize_url(POSTGRES_URL))
    try:
        return set(inspect(engine).get_schema_names())
    finally:
        engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _postgres_left_as_found() -> Iterator[None]:
    """Each PostgreSQL test works in its own schema; at the end none may be left behind."""
    yield
    if not POSTGRES_URL or not _CREATED_SCHEMAS:
        return
    leftover = _postgres_schemas() & _CREATED_SCHEMAS
    assert not leftover, f"tests left schemas behind in PostgreSQL: {sorted(leftover)}"


@contextmanager
def open_database(backend: str, tmp_path: Path) -> Iterator[Database]:
    """An empty database: a SQLite file, or a throwaway PostgreSQL schema dropped after."""
    if backend == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'store.db'}")
        try:
            yield database
        finally:
            database.dispose()
        return
    assert POSTGRES_URL is not None
    schema = f"imajin_test_{uuid.uuid4().hex[:12]}"
    _CREATED_SCHEMAS.add(schema)
    admin = create_engine(normalize_url(POSTGRES_URL))
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    database = Database(POSTGRES_URL, schema=schema)
    try:
        yield database
    finally:
        database.dispose()
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty (unmigrated) database, once per backend."""
    with open_database(request.param, tmp_path) as database:
        yield database


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database, once per backend."""
    with open_database(request.param, tmp_path) as database:
        upgrade(database)
        yield database


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    platform = build_platform(settings)
    upgrade(platform.database)
    yield platform
    platform.close()


@pytest.fixture
def app(platform: Platform) -> FastAPI:
    return create_app(platform)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """A real uvicorn server on a loopback port, in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("live server did not start within 15 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server
