"""instruments.installed_on: the date an instrument was put into service (for statistics by age)

Revision ID: 0160_statistics_dims
Revises: 0150_org_instrument_hosts
Create Date: 2026-12-07 11:45:00

A plain ``ALTER TABLE ... ADD COLUMN`` (nullable, no default): no table rebuild on SQLite, so the expression index
``uq_instruments_identity_ci`` stays.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0160_statistics_dims"
down_revision = "0150_org_instrument_hosts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("instruments", sa.Column("installed_on", sa.Date(), nullable=True))


def downgrade() -> None:
    # a plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch copy would drop the expression index
    op.drop_column("instruments", "installed_on")
