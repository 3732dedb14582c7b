"""The `imajin serve` lines docs/operations.md shows (Start, Configure), each run as written.

Each starts a real `imajin serve` process with the documented environment and checks what
the line promises: the options `--help` names, JSON log lines carrying the request id, the
CORS origin allowed, the database the URL names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from imajin.store.database import normalize_url
from tests.conftest import POSTGRES_URL
from tests.support.serve import imajin_serve

STUDIO = "https://studio.example.com"


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without its IMAJIN_ settings, and a private data directory."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("IMAJIN_")}
    return {**clean, "IMAJIN_DATA_DIR": str(tmp_path / "data")}


def test_serve_help_names_host_port_and_insecure(environ: dict[str, str]) -> None:
    # `.venv/bin/imajin serve --help  # host, port, --insecure`
    result = subprocess.run(
        [sys.executable, "-m", "imajin", "serve", "--help"],
        env={**environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--host", "--port", "--insecure"):
        assert option in result.stdout
    # The defaults come from the configuration, and the help says where.
    assert "[default: (server.host)]" in result.stdout
    assert "[default: (server.port)]" in result.stdout


def test_two_workers_and_json_logs(environ: dict[str, str], tmp_path: Path) -> None:
    # `IMAJIN_JOBS__WORKERS=2 IMAJIN_LOGGING__FORMAT=json imajin serve`
    environ |= {"IMAJIN_JOBS__WORKERS": "2", "IMAJIN_LOGGING__FORMAT": "json"}
    with imajin_serve(cwd=tmp_path, environ=environ) as server:
        response = httpx.get(server.url + "/api/health", headers={"X-Request-ID": "docs-json-1"})
        assert response.status_code == 200
    lines = [line for line in server.output().splitlines() if line.strip()]
    # Every log line is one JSON object; only the start-up notice is plain text.
    entries = [json.loads(line) for line in lines if not line.startswith("imajin: serving on")]
    assert entries and all(isinstance(entry, dict) for entry in entries)
    assert any(entry.get("request_id") == "docs-json-1" for entry in entries)


def test_cors_origins_allow_the_studio(environ: dict[str, str], tmp_path: Path) -> None:
    # `IMAJIN_SERVER__CORS_ORIGINS='["https://studio.example.com"]' imajin serve`
    environ["IMAJIN_SERVER__CORS_ORIGINS"] = json.dumps([STUDIO])
    with imajin_serve(cwd=tmp_path, environ=environ) as server:

        def preflight(origin: str) -> httpx.Response:
            headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
            return httpx.options(server.url + "/api/jobs", headers=headers)

        allowed = preflight(STUDIO)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == STUDIO
        assert "access-control-allow-origin" not in preflight("https://other.example.com").headers


@pytest.fixture
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    assert POSTGRES_URL is not None
    name = f"imajin_docs_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        # A plain postgresql:// URL, as the documented line writes it.
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_URL is None, reason="needs IMAJIN_TEST_POSTGRES_URL")
def test_database_url_serves_from_postgres(
    environ: dict[str, str], tmp_path: Path, fresh_postgres_database: str
) -> None:
    # `IMAJIN_DATABASE__URL=postgresql://imajin@db/imajin imajin serve`
    environ["IMAJIN_DATABASE__URL"] = fresh_postgres_database
    with imajin_serve(cwd=tmp_path, environ=environ) as server:
        health = httpx.get(server.url + "/api/health").json()
        assert health["status"] == "ok", health
    engine = create_engine(normalize_url(fresh_postgres_database))
    try:
        assert {"alembic_version", "jobs", "api_keys"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert not (tmp_path / "data" / "imajin.db").exists()  # nothing went to SQLite
