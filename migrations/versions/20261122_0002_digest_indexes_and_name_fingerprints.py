"""digest indexes and name fingerprints

Digests and /stats over a million cases read covering indexes instead of the wide rows;
pattern alerts group cases by a keyed fingerprint of the employer and agency names instead
of decrypting every name. A migration has no keys to read the names, so names stored
before this revision are marked "?" (bot.names.UNKEYED) and get their fingerprints the
first time a digest looks at them (bot.domain.patterns.fingerprint_unkeyed).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:38:41.276970
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_events_kind"))
        batch_op.create_index("ix_case_events_kind_at", ["kind", "at", "case_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("employer_key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("agency_key", sa.String(length=32), nullable=True))
    op.execute("UPDATE cases SET employer_key = '?' WHERE employer IS NOT NULL")
    op.execute("UPDATE cases SET agency_key = '?' WHERE agency IS NOT NULL")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_corridor_claimed"))
        batch_op.drop_index(batch_op.f("ix_cases_corridor_created"))
        batch_op.drop_index(batch_op.f("ix_cases_corridor_resolved"))
        # Joins from timers and events to the cases of some corridors read this narrow
        # index, not the wide rows.
        batch_op.create_index("ix_cases_id_corridor", ["id", "corridor_code"], unique=False)
        batch_op.create_index(
            "ix_cases_open_urgency",
            ["status", "urgency", "corridor_code", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_cases_window_claimed", ["corridor_code", "claimed_at", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_cases_window_created",
            [
                "corridor_code",
                "created_at",
                "wage_currency",
                "wage_owed_minor",
                "employer_key",
                "agency_key",
            ],
            unique=False,
        )
        batch_op.create_index(
            "ix_cases_window_resolved",
            [
                "corridor_code",
                "resolved_at",
                "created_at",
                "outcome",
                "outcome_currency",
                "outcome_amount_minor",
            ],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_window_resolved")
        batch_op.drop_index("ix_cases_window_created")
        batch_op.drop_index("ix_cases_window_claimed")
        batch_op.drop_index("ix_cases_open_urgency")
        batch_op.drop_index("ix_cases_id_corridor")
        batch_op.create_index(
            batch_op.f("ix_cases_corridor_resolved"), ["corridor_code", "resolved_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cases_corridor_created"), ["corridor_code", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cases_corridor_claimed"), ["corridor_code", "claimed_at"], unique=False
        )
        batch_op.drop_column("agency_key")
        batch_op.drop_column("employer_key")

    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index("ix_case_events_kind_at")
        batch_op.create_index(batch_op.f("ix_case_events_kind"), ["kind"], unique=False)
