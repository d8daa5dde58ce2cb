"""case_relay.holder_marker: whom a relayed copy was sent to, as a keyed marker, so a copy
follows its volunteer (blanked when they no longer hold the case, or are forgotten)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_relay", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("holder_marker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_case_relay_holder_marker"), ["holder_marker"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_relay", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_relay_holder_marker"))
        batch_op.drop_column("holder_marker")
