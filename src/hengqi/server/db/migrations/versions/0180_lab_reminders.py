"""reminder e-mail subscriptions (one per user: address, site, window)

Revision ID: 0180_lab_reminders
Revises: 0190_org_address
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0180_lab_reminders"
down_revision = "0190_org_address"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("last_sent_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("user_id", name="uq_reminder_subscriptions_user"),
    )
    op.create_index("ix_reminder_subscriptions_organisation_id", "reminder_subscriptions", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_reminder_subscriptions_organisation_id", table_name="reminder_subscriptions")
    op.drop_table("reminder_subscriptions")
