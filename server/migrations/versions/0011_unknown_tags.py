"""Unknown tags: tags read at a station that no athlete has, kept across a restart.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unknowntag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station", sqltypes.AutoString(length=40), nullable=False),
        sa.Column("tag", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("first_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reads", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("unknowntag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unknowntag_station"), ["station"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unknowntag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unknowntag_station"))
    op.drop_table("unknowntag")
