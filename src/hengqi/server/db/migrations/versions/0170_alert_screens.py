"""alert screens: the workflow new -> acknowledged -> inspection ordered -> closed with a finding, and the
verification run an inspection order became

Revision ID: 0170_alert_screens
Revises: 0160_statistics_dims
Create Date: 2026-12-07 11:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0170_alert_screens"
down_revision = "0160_statistics_dims"
branch_labels = None
depends_on = None

STATES = (("open", "new"), ("investigating", "inspection_ordered"))
REASONS = (("confirmed_tampering", "confirmed_fraud"), ("repaired", "fault"))


def upgrade() -> None:
    with op.batch_alter_table("field_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inspection_run_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_field_alerts_inspection_run_id_runs"), "runs", ["inspection_run_id"], ["id"]
        )
    alerts = sa.table("field_alerts", sa.column("state", sa.String), sa.column("closure_reason", sa.String))
    for old, new in STATES:
        op.execute(alerts.update().where(alerts.c.state == old).values(state=new))
    for old, new in REASONS:
        op.execute(alerts.update().where(alerts.c.closure_reason == old).values(closure_reason=new))


def downgrade() -> None:
    alerts = sa.table("field_alerts", sa.column("state", sa.String), sa.column("closure_reason", sa.String))
    for old, new in STATES:
        op.execute(alerts.update().where(alerts.c.state == new).values(state=old))
    for old, new in REASONS:
        op.execute(alerts.update().where(alerts.c.closure_reason == new).values(closure_reason=old))
    with op.batch_alter_table("field_alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_field_alerts_inspection_run_id_runs"), type_="foreignkey")
        batch_op.drop_column("inspection_run_id")
