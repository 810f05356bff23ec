"""Coach accounts and logins, roster fields, rep corrections, device layouts, settings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:33:12.107514
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql import sqltypes

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appsetting",
        sa.Column("key", sqltypes.AutoString(length=60), nullable=False),
        sa.Column("value_json", sqltypes.AutoString(), nullable=False),
        sa.Column("updated_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "coach",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqltypes.AutoString(length=60), nullable=False),
        sa.Column("password_hash", sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_login_wall", sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coach", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coach_name"), ["name"], unique=True)

    op.create_table(
        "devicelayout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqltypes.AutoString(length=80), nullable=False),
        sa.Column("bindings_json", sqltypes.AutoString(), nullable=False),
        sa.Column("updated_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("devicelayout", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devicelayout_name"), ["name"], unique=True)

    op.create_table(
        "coachsession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coach_id"],
            ["coach.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coachsession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coachsession_coach_id"), ["coach_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coachsession_token_hash"), ["token_hash"], unique=True)

    op.create_table(
        "correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=True),
        sa.Column("action", sqltypes.AutoString(length=20), nullable=False),
        sa.Column("detail_json", sqltypes.AutoString(), nullable=False),
        sa.Column("created_wall", sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coach_id"],
            ["coach.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("correction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_correction_run_id"), ["run_id"], unique=False)

    with op.batch_alter_table("athlete", schema=None) as batch_op:
        batch_op.add_column(sa.Column("squad_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("group_name", sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column("sex", sqltypes.AutoString(length=1), nullable=True))
        batch_op.add_column(sa.Column("birth_year", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_athlete_group_name"), ["group_name"], unique=False)

    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("voided", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("manual", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("reaction_us", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("movement_us", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("split", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reaction_us", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_column("archived")

    with op.batch_alter_table("split", schema=None) as batch_op:
        batch_op.drop_column("reaction_us")

    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_column("movement_us")
        batch_op.drop_column("reaction_us")
        batch_op.drop_column("manual")
        batch_op.drop_column("voided")

    with op.batch_alter_table("athlete", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_athlete_group_name"))
        batch_op.drop_column("archived")
        batch_op.drop_column("birth_year")
        batch_op.drop_column("sex")
        batch_op.drop_column("group_name")
        batch_op.drop_column("squad_number")

    with op.batch_alter_table("correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_correction_run_id"))

    op.drop_table("correction")
    with op.batch_alter_table("coachsession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coachsession_token_hash"))
        batch_op.drop_index(batch_op.f("ix_coachsession_coach_id"))

    op.drop_table("coachsession")
    with op.batch_alter_table("devicelayout", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devicelayout_name"))

    op.drop_table("devicelayout")
    with op.batch_alter_table("coach", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coach_name"))

    op.drop_table("coach")
    op.drop_table("appsetting")
