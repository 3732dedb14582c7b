"""Jobs: when a result's deliver-once keys are dropped if nobody has read them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from imajin.store.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("deliver_until", UTCDateTime(), nullable=True))
        batch.create_index(batch.f("ix_jobs_deliver_until"), ["deliver_until"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index(batch.f("ix_jobs_deliver_until"))
        batch.drop_column("deliver_until")
