"""Stations: courses that run at once on a testing day, each with its own devices and sessions.

Sessions and reps from before belong to the main station (NULL).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqltypes.AutoString(length=40), nullable=False),
        sa.Column("bindings_json", sqltypes.AutoString(), nullable=False),
        sa.Column("min_start_spacing_s", sa.Float(), nullable=False),
        sa.Column("updated_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_station_name"), ["name"], unique=True)
    with op.batch_alter_table("plansession", schema=None) as batch_op:
        batch_op.add_column(sa.Column("station", sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_plansession_station"), ["station"], unique=False)
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("station", sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_run_station"), ["station"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_station"))
        batch_op.drop_column("station")
    with op.batch_alter_table("plansession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plansession_station"))
        batch_op.drop_column("station")
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_station_name"))
    op.drop_table("station")
