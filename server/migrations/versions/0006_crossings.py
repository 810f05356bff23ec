"""Crossings: which rule found each gate role's crossing in a rep, and from which raw edges.

Reps stored before this have no rows here: every crossing then was the first break.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crossing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("role", sqltypes.AutoString(length=40), nullable=False),
        sa.Column("trigger", sqltypes.AutoString(length=20), nullable=False),
        sa.Column("at_mono_us", sa.BigInteger(), nullable=False),
        sa.Column("device", sqltypes.AutoString(length=40), nullable=False),
        sa.Column("boot_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("edges_json", sqltypes.AutoString(), nullable=False),
        sa.Column("first_break_lead_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("crossing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crossing_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("crossing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crossing_run_id"))
    op.drop_table("crossing")
