"""corridor loop: the first claim is kept, referrals have their own times, organisations a kind

``claimed_at`` was overwritten by every claim, so a referred case's time to claim measured
creation to the referral's claim. It now keeps the first claim: for cases already stored it
is set back to the first "claimed" event of the log, and the rollups, which count it, are
rebuilt. ``referred_at`` and ``referral_claimed_at`` measure a referral on its own;
``referred_by_person_id`` lets only the person who referred be told.
``organisations.kind`` says in plain words what an organisation is, for a reporter asked
to consent to it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 12:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referred_at", UTCDateTime(timezone=True)))
        batch_op.add_column(sa.Column("referral_claimed_at", UTCDateTime(timezone=True)))
        batch_op.add_column(sa.Column("referred_by_person_id", sa.String(length=64)))
    # Not in batch mode: on SQLite that would copy the table others point at.
    op.add_column(
        "organisations",
        sa.Column("kind", sa.String(length=16), server_default="ngo", nullable=False),
    )
    # A referred case that was claimed again: its latest claim was the referral's.
    op.execute(
        """
        UPDATE cases SET
            referred_at = (
                SELECT MAX(e.at) FROM case_events e
                WHERE e.case_id = cases.id AND e.kind = 'referred'
            ),
            referral_claimed_at = CASE WHEN referred_by_organisation_id IS NOT NULL
                THEN claimed_at END,
            claimed_at = (
                SELECT MIN(e.at) FROM case_events e
                WHERE e.case_id = cases.id AND e.kind = 'claimed'
            )
        WHERE claimed_at IS NOT NULL AND EXISTS (
            SELECT 1 FROM case_events e WHERE e.case_id = cases.id AND e.kind = 'claimed'
        )
        """
    )
    from bot.domain.rollups import rebuild_sync

    rebuild_sync(op.get_bind())


def downgrade() -> None:
    op.drop_column("organisations", "kind")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("referred_by_person_id")
        batch_op.drop_column("referral_claimed_at")
        batch_op.drop_column("referred_at")
