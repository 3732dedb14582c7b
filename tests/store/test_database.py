"""The Database wrapper: sessions, drivers, failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from imajin.errors import ConfigError, ServiceUnavailable
from imajin.store.database import Database, normalize_url


def test_session_commits_on_success_and_rolls_back_on_error(database: Database) -> None:
    with database.session() as session:
        session.execute(text("CREATE TABLE scratch (n INTEGER)"))
    with database.session() as session:
        session.execute(text("INSERT INTO scratch VALUES (1)"))
    with pytest.raises(RuntimeError), database.session() as session:
        session.execute(text("INSERT INTO scratch VALUES (2)"))
        raise RuntimeError("boom")
    with database.session() as session:
        assert session.execute(text("SELECT n FROM scratch")).scalars().all() == [1]


def test_postgres_urls_use_psycopg3() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"
    with pytest.raises(ConfigError, match="Unsupported"):
        normalize_url("mysql://u@h/db")


def test_sqlite_creates_its_directory_and_enables_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'nested' / 'deeper' / 'x.db'}")
    try:
        assert database.ping()
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        database.dispose()


def test_unreachable_server_is_service_unavailable() -> None:
    # Port 1 on loopback refuses at once: a real connection failure, no waiting.
    database = Database("postgresql://nobody@127.0.0.1:1/none")
    try:
        assert database.ping() is False
        with (
            pytest.raises(ServiceUnavailable, match="Database unavailable"),
            database.session() as session,
        ):
            session.execute(text("SELECT 1"))
    finally:
        database.dispose()
