"""field alerts: detector findings grouped per instrument, detector and day, with their workflow state

Revision ID: 0125_field_alerts
Revises: 0120_field_telemetry
Create Date: 2026-12-07 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hengqi.server.db.types

revision = "0125_field_alerts"
down_revision = "0120_field_telemetry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_key", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("detector", sa.String(length=20), nullable=False),
        sa.Column("window_start", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("window_end", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("closure_reason", sa.String(length=30), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("finding_count", sa.Integer(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["field_devices.id"], name=op.f("fk_field_alerts_device_pk_field_devices")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_field_alerts_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_alerts")),
        sa.UniqueConstraint("alert_key", name=op.f("uq_field_alerts_alert_key")),
    )
    with op.batch_alter_table("field_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_field_alerts_device_pk"), ["device_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_field_alerts_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_field_alerts_state"), ["state"], unique=False)


def downgrade() -> None:
    op.drop_table("field_alerts")
