"""Split marks from receipt-timed devices (Chronopic, Timy): cross-device error, manual, coarse.

Existing rows read as unmarked (false, NULL): every split stored before this came from
protocol v1 devices, whose clocks are queried, so none of them carries a mark.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("split", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cross_device_error_us", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("manual", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("coarse", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cross_device_error_us", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("deviceevent", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("by_receipt", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("manual", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("coarse", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("deviceevent", schema=None) as batch_op:
        batch_op.drop_column("coarse")
        batch_op.drop_column("manual")
        batch_op.drop_column("by_receipt")

    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_column("cross_device_error_us")

    with op.batch_alter_table("split", schema=None) as batch_op:
        batch_op.drop_column("coarse")
        batch_op.drop_column("manual")
        batch_op.drop_column("cross_device_error_us")
