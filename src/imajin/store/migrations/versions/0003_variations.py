"""Image variations and their derivatives.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from imajin.store.tables import EventId, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_variations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("generation_params", sa.JSON(), nullable=False),
        sa.Column("families", sa.JSON(), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_variations")),
        sa.UniqueConstraint("name", name=op.f("uq_image_variations_name")),
    )
    op.create_index(op.f("ix_image_variations_category"), "image_variations", ["category"])
    op.create_table(
        "image_derivatives",
        sa.Column("id", EventId, autoincrement=True, nullable=False),
        sa.Column("variation_id", sa.String(32), nullable=False),
        sa.Column("family", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("is_master", sa.Boolean(), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["variation_id"],
            ["image_variations.id"],
            ondelete="CASCADE",
            name=op.f("fk_image_derivatives_variation_id_image_variations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_derivatives")),
        sa.UniqueConstraint(
            "variation_id",
            "name",
            "is_master",
            name=op.f("uq_image_derivatives_variation_id"),
        ),
    )
    op.create_index(
        op.f("ix_image_derivatives_variation_id"), "image_derivatives", ["variation_id"]
    )


def downgrade() -> None:
    op.drop_table("image_derivatives")
    op.drop_table("image_variations")
