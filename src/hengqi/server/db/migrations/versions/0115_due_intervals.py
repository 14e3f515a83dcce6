"""due intervals per organisation, instrument kind and accuracy class

Revision ID: 0115_due_intervals
Revises: 0113_audit_anchor
Create Date: 2026-12-07 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hengqi.server.db.types

revision = "0115_due_intervals"
down_revision = "0113_audit_anchor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "due_intervals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.String(length=20), nullable=False),
        sa.Column("instrument_kind", sa.String(length=20), nullable=False),
        sa.Column("accuracy_class", sa.String(length=4), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_due_intervals_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_due_intervals")),
        sa.UniqueConstraint(
            "organisation_id", "due", "instrument_kind", "accuracy_class", name="uq_due_intervals_scope"
        ),
    )
    with op.batch_alter_table("due_intervals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_due_intervals_organisation_id"), ["organisation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("due_intervals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_due_intervals_organisation_id"))
    op.drop_table("due_intervals")
