"""Batch-studio batches.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from imajin.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("set_name", sa.String(64), nullable=False),
        sa.Column("user_theme", sa.Text(), nullable=False),
        sa.Column("output_dir", sa.String(200), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(500), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("output_dir", name=op.f("uq_batches_output_dir")),
    )
    op.create_index(op.f("ix_batches_set_name"), "batches", ["set_name"])
    op.create_index(op.f("ix_batches_created_at"), "batches", ["created_at"])


def downgrade() -> None:
    op.drop_table("batches")
