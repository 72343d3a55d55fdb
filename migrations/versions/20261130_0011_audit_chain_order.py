"""audit chain order: events are linked into the chain as their transaction commits

The chain's head was taken when an event was recorded and held until the commit (on
PostgreSQL an advisory lock), so every transaction that wrote an event waited for all
others: 50 SOS at once took 30 s. Events are now inserted unlinked and linked in one short
step just before the commit; ``seq`` is their place in the chain (ids are handed out
earlier, in another order). Events already stored keep their order: ``seq`` = ``id``.

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-30 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("case_events", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.execute("UPDATE case_events SET seq = id")
    op.create_index("ix_case_events_seq", "case_events", ["seq"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_case_events_seq", table_name="case_events")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_column("seq")
