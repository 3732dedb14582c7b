"""The `imajin` command line, run in-process and as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from imajin import __version__
from imajin.cli import app
from imajin.keys.models import hash_key
from tests.support.serve import imajin_serve

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run commands in a private working directory with a private data directory."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("IMAJIN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("IMAJIN_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version(env: Path) -> None:
    assert invoke("version")[1].strip() == __version__


def test_help_lists_the_commands(env: Path) -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    for command in ("serve", "config", "db", "keys", "version"):
        assert command in out


def test_config_show_reflects_layers_and_masks_secrets(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (env / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "database": {"url": "postgresql://app:hunter2@db.internal/imajin"},
                "auth": {"keys": [{"id": "ops", "hash": hash_key("k"), "scopes": ["read"]}]},
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("IMAJIN_SERVER__PORT", "9555")
    code, out, _ = invoke("config", "show")
    assert code == 0
    shown = yaml.safe_load(out)
    assert shown["server"]["port"] == 9555
    assert shown["database"]["url"] == "postgresql://app:***@db.internal/imajin"
    assert "hunter2" not in out
    assert hash_key("k") not in out


def test_bad_config_exits_2_naming_the_key(env: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "imajin", "config", "show"],
        env={**os.environ, "IMAJIN_DATA_DIR": str(env / "data"), "IMAJIN_LOGGING__LEVLE": "x"},
        cwd=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "logging.levle" in result.stderr
    assert "IMAJIN_LOGGING__LEVLE" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_and_current(env: Path) -> None:
    code, _, _ = invoke("db", "current")
    assert code == 0
    code, out, _ = invoke("db", "upgrade")
    assert code == 0 and "database at revision" in out
    assert (env / "data" / "imajin.db").is_file()
    code, out, _ = invoke("db", "current")
    lines = dict(line.split(":", 1) for line in out.strip().splitlines())
    assert lines["current"].strip() == lines["head"].strip() != "(empty)"


def test_keys_create_list_revoke(env: Path) -> None:
    code, out, err = invoke("keys", "create", "--scope", "generate", "--name", "studio")
    assert code == 0
    key = out.strip()
    assert key.startswith("imj_")
    assert "cannot be shown again" in err
    code, out, _ = invoke("keys", "list")
    assert "studio" in out and key not in out
    key_id = err.split("Created key ")[1].split()[0]
    assert invoke("keys", "revoke", key_id)[0] == 0
    assert "studio" not in invoke("keys", "list")[1]
    assert "studio" in invoke("keys", "list", "--revoked")[1]


def test_keys_create_rejects_unknown_scope(env: Path) -> None:
    code, _, err = invoke("keys", "create", "--scope", "superuser")
    assert code != 0
    assert "superuser" in err


def test_serve_refuses_public_bind_without_keys(env: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "imajin", "serve", "--host", "0.0.0.0", "--port", "1"],
        env={**os.environ, "IMAJIN_DATA_DIR": str(env / "data")},
        cwd=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--insecure" in result.stderr


@pytest.fixture
def served(env: Path) -> Iterator[str]:
    """`imajin serve` as a real process, the way `make run` starts it."""
    environ = {**os.environ, "IMAJIN_DATA_DIR": str(env / "data")}
    with imajin_serve(cwd=env, environ=environ) as server:
        yield server.url


def test_serve_answers_health_and_migrates(served: str, env: Path) -> None:
    response = httpx.get(served + "/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert (env / "data" / "imajin.db").is_file()
