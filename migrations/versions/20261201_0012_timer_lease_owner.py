"""timer lease owner: which process holds a running timer

A timer is leased for five minutes while it fires. A process killed in the middle of a
batch left the rest of it running until the lease ran out: an SOS's escalation five
minutes late. The lease now names its process, so a restarted bot (SQLite) or another
process that finds the owner dead (PostgreSQL, models/liveness.py) takes it back at once.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("timers", sa.Column("lease_owner", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.drop_column("lease_owner")
