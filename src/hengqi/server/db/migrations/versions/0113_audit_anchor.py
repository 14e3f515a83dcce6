"""audit trail anchored outside the database: row digests and MACs on audit entries

Revision ID: 0113_audit_anchor
Revises: 0112_record_versions
Create Date: 2026-12-07 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0113_audit_anchor"
down_revision = "0112_record_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("row_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("mac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("mac")
        batch.drop_column("row_sha256")
