"""instrument host allow-list per organisation; instrument identity unique ignoring case

Revision ID: 0150_org_instrument_hosts
Revises: 0145_lab_web
Create Date: 2026-12-07 08:00:00

Fails (and changes nothing) where an organisation already holds two instruments whose make, model and serial differ
only in letter case: those must be told apart by hand first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0150_org_instrument_hosts"
down_revision = "0145_lab_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("organisations", sa.Column("instrument_hosts", sa.Text(), nullable=False, server_default=""))
    op.create_index(
        "uq_instruments_identity_ci",
        "instruments",
        ["organisation_id", sa.text("lower(make)"), sa.text("lower(model)"), sa.text("lower(serial)")],
        unique=True,
    )


def downgrade() -> None:
    # a later downgrade that rebuilt the table on SQLite (batch mode) may already have dropped the index
    op.execute("DROP INDEX IF EXISTS uq_instruments_identity_ci")
    # a plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch copy would drop the referenced table
    op.drop_column("organisations", "instrument_hosts")
