"""Migrations build exactly the schema the tables declare, on every backend."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table, inspect, text

from imajin.jobs.repository import JobRepository
from imajin.store.database import Database
from imajin.store.migrate import alembic_config, current_revision, head_revision, upgrade
from imajin.store.tables import Base, utcnow


def test_upgrade_from_empty_reaches_head_and_matches_the_tables(empty_database: Database) -> None:
    assert current_revision(empty_database) is None
    upgrade(empty_database)
    assert current_revision(empty_database) == head_revision(empty_database)
    with empty_database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    # A table or column added to tables.py without a migration shows up here.
    assert differences == []


def test_upgrade_is_idempotent(database: Database) -> None:
    upgrade(database)
    upgrade(database)
    tables = set(inspect(database.engine).get_table_names())
    assert {"api_keys", "alembic_version"} <= tables


def _failed_job_row(job_id: str) -> dict[str, object]:
    """A failed job as revision 0005 stored it: a code and a message, nothing more."""
    now = utcnow()
    return {
        "id": job_id,
        "kind": "noop",
        "queue": "default",
        "route": "default",
        "priority": 0,
        "status": "failed",
        "attempts": 1,
        "max_attempts": 3,
        "progress_step": 0,
        "progress_total": 0,
        "progress_message": "",
        "params": {},
        "error_code": "policy_violation",
        "error_message": "The `prompt` is refused.",
        "cancel_requested": False,
        "created_at": now,
        "updated_at": now,
    }


def _insert_job(database: Database, row: dict[str, object]) -> None:
    # The table as it is in the database at this revision, not as tables.py declares it.
    jobs = Table("jobs", MetaData(), autoload_with=database.engine)
    with database.engine.begin() as connection:
        connection.execute(jobs.insert().values(**row))


def _job_columns(database: Database) -> set[str]:
    return {column["name"] for column in inspect(database.engine).get_columns("jobs")}


def test_the_error_detail_migration_goes_up_and_down_keeping_jobs(
    empty_database: Database,
) -> None:
    upgrade(empty_database, "0005")
    _insert_job(empty_database, _failed_job_row("before"))
    indexes = {index["name"] for index in inspect(empty_database.engine).get_indexes("jobs")}

    upgrade(empty_database, "0006")
    assert "error_detail" in _job_columns(empty_database)
    upgrade(empty_database)  # the repository reads every column of the current schema
    repository = JobRepository(empty_database)
    old = repository.get("before").error
    # A job that failed before the column existed reads as it did: no detail.
    assert old is not None and (old.code, old.detail) == ("policy_violation", None)
    detail = {"field": "prompt", "reason": "prohibited_term"}
    _insert_job(empty_database, {**_failed_job_row("after"), "error_detail": detail})
    new = repository.get("after").error
    assert new is not None and new.detail == detail

    command.downgrade(alembic_config(empty_database), "0005")
    assert current_revision(empty_database) == "0005"
    assert "error_detail" not in _job_columns(empty_database)
    # Both jobs and the table's indexes survive (SQLite rebuilds the table to drop a column).
    with empty_database.engine.connect() as connection:
        kept = connection.execute(text("SELECT id, error_code FROM jobs ORDER BY id")).all()
    assert [tuple(row) for row in kept] == [
        ("after", "policy_violation"),
        ("before", "policy_violation"),
    ]
    assert {index["name"] for index in inspect(empty_database.engine).get_indexes("jobs")} == (
        indexes
    )
    upgrade(empty_database)
    assert "error_detail" in _job_columns(empty_database)
