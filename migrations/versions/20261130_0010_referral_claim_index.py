"""a covering index for referrals claimed in a window

The digest, /stats and the dashboard's trends count the referrals claimed in a window and
their median time to claim. ``referral_claimed_at`` (revision 0006) had no index, so each
of them read every case of the database: 3 s for a million cases on SQLite, on every
opening of the dashboard's 30-day trends. Like the other window indexes, this one holds
every column the two aggregates read.

Revision ID: 0010
Revises: 0011
Create Date: 2026-11-30 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_window_referral_claimed",
        "cases",
        ["corridor_code", "referral_claimed_at", "referred_at", "drill"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_cases_window_referral_claimed", table_name="cases")
