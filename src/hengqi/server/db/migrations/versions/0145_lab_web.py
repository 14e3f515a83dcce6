"""row_version on customers

Revision ID: 0145_lab_web
Revises: 0140_throughput
Create Date: 2026-12-07 09:00:00

``customers`` (revision 0116) was made on a branch before ``row_version`` (revision 0112) reached every table
changed through the API, but the model is versioned like the others (``Owned``): without the column no customer
can be written.  Added here with 1 for existing rows, unless a re-chained 0116 already made it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0145_lab_web"
down_revision = "0140_throughput"
branch_labels = None
depends_on = None


def _has_row_version() -> bool:
    columns = sa.inspect(op.get_bind()).get_columns("customers")
    return any(column["name"] == "row_version" for column in columns)


def upgrade() -> None:
    if not _has_row_version():
        op.add_column("customers", sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    """Nothing: the column belongs to the model whichever revision made it."""
