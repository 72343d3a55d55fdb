"""drills: practice cases, worked like any other and counted nowhere

A `drill` flag on cases. The indexes digests, /stats and exports read from alone get the
flag as their last column, so leaving drills out still needs no visit to the wide rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_cases_window_created": [
        "corridor_code",
        "created_at",
        "wage_currency",
        "wage_owed_minor",
        "employer_key",
        "agency_key",
    ],
    "ix_cases_window_claimed": ["corridor_code", "claimed_at", "created_at"],
    "ix_cases_window_resolved": [
        "corridor_code",
        "resolved_at",
        "created_at",
        "outcome",
        "outcome_currency",
        "outcome_amount_minor",
    ],
    "ix_cases_open_urgency": ["status", "urgency", "corridor_code", "created_at"],
    "ix_cases_id_corridor": ["id", "corridor_code"],
}


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("drill", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, [*columns, "drill"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("drill")
