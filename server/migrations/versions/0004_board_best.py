"""Board summary: best and last counted time per athlete, drill and segment.

The rows are derived data: the server fills the table from run and split at its first start
after this migration (server/leaderboard/summary.py, `ensure_built`), so no data moves here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 11:11:42.752727
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boardbest",
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("segment", sqltypes.AutoString(length=60), nullable=False),
        sa.Column("athlete_id", sa.Integer(), nullable=False),
        sa.Column("best_us", sa.BigInteger(), nullable=False),
        sa.Column("best_manual", sa.Boolean(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.Column("last_manual", sa.Boolean(), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["athlete_id"], ["athlete.id"]),
        sa.ForeignKeyConstraint(["drill_id"], ["drill.id"]),
        sa.PrimaryKeyConstraint("drill_id", "segment", "athlete_id"),
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_index("ix_run_drill_athlete", ["drill_id", "athlete_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index("ix_run_drill_athlete")
    op.drop_table("boardbest")
