"""Athlete tags: the RFID, barcode or QR id a testing-day station reads to check an athlete in.

Stored normalised (trimmed, upper-case), unique across the club; existing athletes have no
tag (NULL), and a unique index allows any number of NULLs on SQLite and PostgreSQL alike.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("athlete", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tag", sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_athlete_tag"), ["tag"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("athlete", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_athlete_tag"))
        batch_op.drop_column("tag")
