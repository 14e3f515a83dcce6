"""customers.row_version: the column the model has had since 0112 but 0116 did not create

Revision ID: 0140_throughput
Revises: 0125_field_alerts
Create Date: 2026-12-07 09:35:00

``Customer`` is an ``Owned`` model, which carries ``row_version`` (the optimistic-locking counter of 0112); the
customers branch (0116) was written before 0112 and made the table without it, so that every insert of a
customer failed once the branches were merged (``hengqi serve --demo`` among them).  The column is added only
where it is missing, so this revision stays correct if 0116 is amended to create it.  Downgrade leaves it: the
models of 0120 expect it too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0140_throughput"
down_revision = "0125_field_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("customers")}
    if "row_version" not in columns:
        op.add_column("customers", sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    """Nothing to undo: 0120's models need the column as well."""
