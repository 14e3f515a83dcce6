"""postal address of an organisation (the laboratory named on its certificates)

Revision ID: 0190_org_address
Revises: 0170_alert_screens
Create Date: 2026-12-07 11:00:00

Existing organisations get empty fields: their certificates are not issued until an administrator enters at least
the city and the country (ISO/IEC 17025:2017, 7.8.2.1 b: the laboratory's name and address; SECONDARY).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0190_org_address"
down_revision = "0170_alert_screens"
branch_labels = None
depends_on = None

#: (column, length) of the address; every one NOT NULL, empty when not given
COLUMNS = (
    ("name_zh", 200),
    ("street", 200),
    ("street_no", 20),
    ("post_code", 20),
    ("city", 100),
    ("state", 100),
    ("country", 2),
)


def upgrade() -> None:
    for name, length in COLUMNS:  # plain ADD COLUMN: no table rebuild on SQLite
        op.add_column("organisations", sa.Column(name, sa.String(length), nullable=False, server_default=""))


def downgrade() -> None:
    # a plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch copy would drop the referenced table
    for name, _length in reversed(COLUMNS):
        op.drop_column("organisations", name)
