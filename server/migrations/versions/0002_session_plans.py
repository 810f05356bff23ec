"""Session plans: plan and plansession tables; run gains familiarisation and plan_session_id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:17:33.183283
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Named so the downgrade can drop it (an unnamed foreign key cannot be found again).
RUN_PLAN_SESSION_FK = "fk_run_plan_session_id"


def upgrade() -> None:
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqltypes.AutoString(length=160), nullable=False),
        sa.Column("definition_json", sqltypes.AutoString(), nullable=False),
        sa.Column("created_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_name"), ["name"], unique=False)

    op.create_table(
        "plansession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("state", sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sqltypes.AutoString(length=200), nullable=True),
        sa.Column("time_scale", sa.Float(), nullable=False),
        sa.Column("scheduled_wall", sqltypes.UTCDateTime(), nullable=True),
        sa.Column("started_wall", sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_wall", sqltypes.UTCDateTime(), nullable=True),
        sa.Column("progress_json", sqltypes.AutoString(), nullable=False),
        sa.Column("created_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plansession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plansession_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plansession_state"), ["state"], unique=False)

    with op.batch_alter_table("run", schema=None) as batch_op:
        # sa.false() renders per dialect (0 on SQLite, false on PostgreSQL) for existing rows.
        batch_op.add_column(
            sa.Column("familiarisation", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("plan_session_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_run_plan_session_id"), ["plan_session_id"], unique=False
        )
        batch_op.create_foreign_key(RUN_PLAN_SESSION_FK, "plansession", ["plan_session_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_constraint(RUN_PLAN_SESSION_FK, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_run_plan_session_id"))
        batch_op.drop_column("plan_session_id")
        batch_op.drop_column("familiarisation")

    with op.batch_alter_table("plansession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plansession_state"))
        batch_op.drop_index(batch_op.f("ix_plansession_plan_id"))

    op.drop_table("plansession")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_name"))

    op.drop_table("plan")
