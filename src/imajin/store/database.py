"""One SQLAlchemy engine and session factory for SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from imajin.errors import ConfigError, ServiceUnavailable


def normalize_url(url: str) -> URL:
    """Pick our drivers: psycopg 3 for PostgreSQL, the stdlib module for SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return parsed
    raise ConfigError(f"Unsupported database URL {parsed!r}.", field="database.url")


class Database:
    """Owns the engine and hands out sessions.

    Args:
        url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql://...``).
        echo: Log SQL statements.
        schema: PostgreSQL only: put every table in this schema (tests use a
            throwaway schema each so they leave the database as they found it).
    """

    def __init__(self, url: str, *, echo: bool = False, schema: str | None = None) -> None:
        self.url = normalize_url(url)
        self.schema = schema
        self.engine: Engine = self._create_engine(echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._probe: Engine | None = None  # ping's own connection, made on first ping

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _create_engine(self, *, echo: bool, **pool: Any) -> Engine:
        kwargs: dict[str, Any] = {"echo": echo, "future": True, **pool}
        if self.url.get_backend_name() == "sqlite":
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            # Worker threads share the engine; SQLite's own locking serialises writers.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            engine = create_engine(self.url, **kwargs)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        kwargs["pool_pre_ping"] = True
        if self.schema:
            kwargs["connect_args"] = {"options": f"-csearch_path={self.schema}"}
        return create_engine(self.url, **kwargs)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise ServiceUnavailable(f"Database unavailable: {exc.orig}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> bool:
        """True when a trivial query succeeds.

        It runs on a connection of its own, outside the sessions' pool: when a burst of
        requests holds every pooled connection the database is busy, not down, and the
        health check must not wait for the pool (nor time out on it).
        """
        if self._probe is None:
            self._probe = self._create_engine(
                echo=False, pool_size=1, max_overflow=0, pool_pre_ping=True
            )
        try:
            with self._probe.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except OperationalError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
        if self._probe is not None:
            self._probe.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run while a worker writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
