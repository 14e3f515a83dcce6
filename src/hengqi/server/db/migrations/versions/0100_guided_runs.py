"""guided runs in the browser and instrument connections

Revision ID: 0100
Revises: 0001
Create Date: 2026-11-25 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hengqi.server.db.types

revision = "0100"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guided_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("total_steps", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("weight_set_id", sa.Integer(), nullable=True),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("receptor_kg", sa.String(length=64), nullable=False),
        sa.Column("receptor_position", sa.String(length=40), nullable=False),
        sa.Column("run_record_id", sa.Integer(), nullable=True),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.Column("dcc_sha256", sa.String(length=64), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("finished_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_guided_runs_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_guided_runs_instrument_id_instruments")
        ),
        sa.ForeignKeyConstraint(
            ["weight_set_id"], ["weight_sets.id"], name=op.f("fk_guided_runs_weight_set_id_weight_sets")
        ),
        sa.ForeignKeyConstraint(["started_by_id"], ["users.id"], name=op.f("fk_guided_runs_started_by_id_users")),
        sa.ForeignKeyConstraint(["run_record_id"], ["runs.id"], name=op.f("fk_guided_runs_run_record_id_runs")),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificates.id"], name=op.f("fk_guided_runs_certificate_id_certificates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guided_runs")),
        sa.UniqueConstraint("run_id", name=op.f("uq_guided_runs_run_id")),
    )
    with op.batch_alter_table("guided_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guided_runs_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_guided_runs_instrument_id"), ["instrument_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_guided_runs_status"), ["status"], unique=False)

    op.create_table(
        "instrument_connections",
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("control_url", sa.String(length=500), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_instrument_connections_instrument_id_instruments")
        ),
        sa.PrimaryKeyConstraint("instrument_id", name=op.f("pk_instrument_connections")),
    )


def downgrade() -> None:
    op.drop_table("instrument_connections")
    with op.batch_alter_table("guided_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guided_runs_status"))
        batch_op.drop_index(batch_op.f("ix_guided_runs_instrument_id"))
        batch_op.drop_index(batch_op.f("ix_guided_runs_organisation_id"))
    op.drop_table("guided_runs")
