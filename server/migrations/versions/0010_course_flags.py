"""Course flags: crossings of an overlapping course that the coach is asked to confirm or swap.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "courseflag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station", sqltypes.AutoString(length=40), nullable=True),
        sa.Column("drill", sqltypes.AutoString(length=80), nullable=False),
        sa.Column("role", sqltypes.AutoString(length=40), nullable=False),
        sa.Column("doubt", sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason", sqltypes.AutoString(length=300), nullable=False),
        sa.Column("athlete", sqltypes.AutoString(length=120), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("alternative", sqltypes.AutoString(length=120), nullable=True),
        sa.Column("other_run_id", sa.Integer(), nullable=True),
        sa.Column("state", sqltypes.AutoString(length=12), nullable=False),
        sa.Column("created_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_wall", sqltypes.UTCDateTime(), nullable=True),
        sa.Column("coach_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["coach_id"], ["coach.id"]),
        sa.ForeignKeyConstraint(["other_run_id"], ["run.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("courseflag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_courseflag_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_courseflag_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_courseflag_station"), ["station"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("courseflag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courseflag_station"))
        batch_op.drop_index(batch_op.f("ix_courseflag_state"))
        batch_op.drop_index(batch_op.f("ix_courseflag_run_id"))
    op.drop_table("courseflag")
