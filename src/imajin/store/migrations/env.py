"""Alembic environment: runs against the Database handed in by ``imajin.store.migrate``."""

from __future__ import annotations

from alembic import context

from imajin.store.database import Database
from imajin.store.tables import Base

database: Database = context.config.attributes["database"]

with database.engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables.
        render_as_batch=database.dialect == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
