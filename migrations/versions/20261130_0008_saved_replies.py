"""saved replies in the database: organisations' own saved replies follow `network sync`

They were read from the configuration file at start only, so a coordinator's new or
corrected reply needed a restart and `network dump` could not write them back. Like help
contacts, they now live in a table the network sync keeps equal to the file.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-30 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_replies",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_saved_replies_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_saved_replies")),
    )


def downgrade() -> None:
    op.drop_table("saved_replies")
