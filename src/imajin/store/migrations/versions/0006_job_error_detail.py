"""A job's error keeps its structured fields (a policy block's reason, the field at fault).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Jobs that failed before this revision keep a null detail; readers treat null as none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("error_detail", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Batch mode: SQLite rebuilds the table to drop a column; PostgreSQL alters it in place.
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("error_detail")
