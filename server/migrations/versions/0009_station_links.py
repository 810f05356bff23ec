"""Station links: keys a coach hands assistants so each runs one station from a phone.

Only each key's SHA-256 is stored, with its station and expiry.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stationlink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("station", sqltypes.AutoString(length=40), nullable=False),
        sa.Column("created_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stationlink", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stationlink_station"), ["station"], unique=False)
        batch_op.create_index(batch_op.f("ix_stationlink_token_hash"), ["token_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("stationlink", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stationlink_token_hash"))
        batch_op.drop_index(batch_op.f("ix_stationlink_station"))
    op.drop_table("stationlink")
