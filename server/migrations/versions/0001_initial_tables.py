"""Initial tables: team, athlete, drill, run, split and the raw device event log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 08:05:05.587638
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqltypes.AutoString(length=80), nullable=False),
        sa.Column("name", sqltypes.AutoString(length=160), nullable=False),
        sa.Column("direction", sqltypes.AutoString(length=16), nullable=False),
        sa.Column("twin_slug", sqltypes.AutoString(length=80), nullable=True),
        sa.Column("definition_toml", sqltypes.AutoString(), nullable=False),
        sa.Column("updated_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("drill", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drill_slug"), ["slug"], unique=True)

    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_name"), ["name"], unique=True)

    op.create_table(
        "athlete",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sqltypes.AutoString(length=120), nullable=False),
        sa.Column("display_name", sqltypes.AutoString(length=60), nullable=True),
        sa.Column("created_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "name", name="uq_athlete_team_name"),
    )
    with op.batch_alter_table("athlete", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_athlete_team_id"), ["team_id"], unique=False)

    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drill_id", sa.Integer(), nullable=False),
        sa.Column("athlete_id", sa.Integer(), nullable=False),
        sa.Column("rep", sa.Integer(), nullable=False),
        sa.Column("state", sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sqltypes.AutoString(length=200), nullable=True),
        sa.Column("total_us", sa.BigInteger(), nullable=True),
        sa.Column("started_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_wall", sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athlete.id"],
        ),
        sa.ForeignKeyConstraint(
            ["drill_id"],
            ["drill.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_athlete_id"), ["athlete_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_run_drill_id"), ["drill_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_run_started_wall"), ["started_wall"], unique=False)
        batch_op.create_index(batch_op.f("ix_run_state"), ["state"], unique=False)

    op.create_table(
        "deviceevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device", sqltypes.AutoString(length=40), nullable=False),
        sa.Column("boot_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("channel", sa.Integer(), nullable=False),
        sa.Column("kind", sqltypes.AutoString(length=20), nullable=False),
        sa.Column("ticks", sa.BigInteger(), nullable=False),
        sa.Column("tick_hz_est", sa.Float(), nullable=False),
        sa.Column("mapped_mono_us", sa.BigInteger(), nullable=True),
        sa.Column("received_mono_us", sa.BigInteger(), nullable=False),
        sa.Column("received_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device", "boot_id", "seq", name="uq_device_event_boot_seq"),
    )
    with op.batch_alter_table("deviceevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deviceevent_device"), ["device"], unique=False)
        batch_op.create_index(batch_op.f("ix_deviceevent_run_id"), ["run_id"], unique=False)

    op.create_table(
        "split",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sqltypes.AutoString(length=60), nullable=False),
        sa.Column("from_role", sqltypes.AutoString(length=40), nullable=False),
        sa.Column("to_role", sqltypes.AutoString(length=40), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("elapsed_us", sa.BigInteger(), nullable=False),
        sa.Column("created_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "position", name="uq_split_run_position"),
    )
    with op.batch_alter_table("split", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_split_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("split", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_split_run_id"))

    op.drop_table("split")
    with op.batch_alter_table("deviceevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deviceevent_run_id"))
        batch_op.drop_index(batch_op.f("ix_deviceevent_device"))

    op.drop_table("deviceevent")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_state"))
        batch_op.drop_index(batch_op.f("ix_run_started_wall"))
        batch_op.drop_index(batch_op.f("ix_run_drill_id"))
        batch_op.drop_index(batch_op.f("ix_run_athlete_id"))

    op.drop_table("run")
    with op.batch_alter_table("athlete", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_athlete_team_id"))

    op.drop_table("athlete")
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_name"))

    op.drop_table("team")
    with op.batch_alter_table("drill", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drill_slug"))

    op.drop_table("drill")
