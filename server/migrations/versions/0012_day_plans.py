"""Day plans: a testing day's stations and rotation groups; sessions say which day started them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Named, so the downgrade can drop it (SQLite's batch mode rebuilds the table by name).
FK_NAME = "fk_plansession_dayplan_id_dayplan"


def upgrade() -> None:
    op.create_table(
        "dayplan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqltypes.AutoString(length=160), nullable=False),
        sa.Column("day", sqltypes.AutoString(length=10), nullable=False),
        sa.Column("definition_json", sqltypes.AutoString(), nullable=False),
        sa.Column("rotation", sa.Integer(), nullable=False),
        sa.Column("created_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dayplan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dayplan_day"), ["day"], unique=False)
    with op.batch_alter_table("plansession", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dayplan_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rotation", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_plansession_dayplan_id"), ["dayplan_id"], unique=False)
        batch_op.create_foreign_key(FK_NAME, "dayplan", ["dayplan_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("plansession", schema=None) as batch_op:
        batch_op.drop_constraint(FK_NAME, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_plansession_dayplan_id"))
        batch_op.drop_column("rotation")
        batch_op.drop_column("dayplan_id")
    with op.batch_alter_table("dayplan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dayplan_day"))
    op.drop_table("dayplan")
