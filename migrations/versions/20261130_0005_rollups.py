"""rollups: per-day statistics, optional sector and gender

Adds the two optional intake facts (sector of work, gender; counted only in anonymised
aggregates) and the per-day rollups that /stats, the digest chart and the evidence report
read (bot.domain.rollups), then builds the rollups from the cases already stored.

The build uses the application's rollup code on the schema of this revision; a later
revision that changes a column it reads rebuilds them itself.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sector", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("gender", sa.String(length=16), nullable=True))
    op.create_table(
        "stats_days",
        sa.Column("corridor", sa.String(length=8), nullable=False),
        sa.Column("basis", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("cases", sa.BigInteger(), nullable=False),
        sa.Column("workers", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "corridor", "basis", "day", "measure", "code", name=op.f("pk_stats_days")
        ),
    )
    op.create_table(
        "stats_names",
        sa.Column("corridor", sa.String(length=8), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("cases", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("corridor", "month", "kind", "key", name=op.f("pk_stats_names")),
    )
    from bot.domain.rollups import rebuild_sync

    rebuild_sync(op.get_bind())


def downgrade() -> None:
    op.drop_table("stats_names")
    op.drop_table("stats_days")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("gender")
        batch_op.drop_column("sector")
