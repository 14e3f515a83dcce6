"""field supervision: field devices, telemetry events, status, offline periods, refusals, work orders

Revision ID: 0120_field_telemetry
Revises: 0117_run_integrity
Create Date: 2026-12-07 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hengqi.server.db.types

revision = "0120_field_telemetry"
down_revision = "0117_run_integrity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_key", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("last_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("last_detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_refusals")),
        sa.UniqueConstraint("device_key", "reason", name="uq_field_refusals_device_reason"),
    )
    op.create_table(
        "field_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("site_kind", sa.String(length=20), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_field_devices_instrument_id_instruments")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_field_devices_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_devices")),
        sa.UniqueConstraint("device_id", name=op.f("uq_field_devices_device_id")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_field_devices_token_sha256")),
    )
    with op.batch_alter_table("field_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_field_devices_instrument_id"), ["instrument_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_field_devices_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "field_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("event_time", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("received_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["field_devices.id"], name=op.f("fk_field_events_device_pk_field_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_events")),
        sa.UniqueConstraint("device_pk", "seq", name="uq_field_events_device_seq"),
    )
    with op.batch_alter_table("field_events", schema=None) as batch_op:
        batch_op.create_index("ix_field_events_device_time", ["device_pk", "event_time"], unique=False)

    op.create_table(
        "field_offline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("started_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("ended_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["field_devices.id"], name=op.f("fk_field_offline_device_pk_field_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_offline")),
    )
    with op.batch_alter_table("field_offline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_field_offline_device_pk"), ["device_pk"], unique=False)

    op.create_table(
        "field_status",
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("watermark", sa.BigInteger(), nullable=True),
        sa.Column("stored", sa.BigInteger(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_event_time", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("calibration_counter", sa.Integer(), nullable=True),
        sa.Column("configuration_counter", sa.Integer(), nullable=True),
        sa.Column("counter_modulus", sa.Integer(), nullable=True),
        sa.Column("case_open", sa.Boolean(), nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=True),
        sa.Column("software_id", sa.String(length=200), nullable=True),
        sa.Column("software_checksum", sa.String(length=128), nullable=True),
        sa.Column("sequence_gaps", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["field_devices.id"], name=op.f("fk_field_status_device_pk_field_devices")
        ),
        sa.PrimaryKeyConstraint("device_pk", name=op.f("pk_field_status")),
    )
    op.create_table(
        "field_work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("device_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("authorised_by", sa.String(length=200), nullable=False),
        sa.Column("opened_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_pk"], ["field_devices.id"], name=op.f("fk_field_work_orders_device_pk_field_devices")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_field_work_orders_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_work_orders")),
    )
    with op.batch_alter_table("field_work_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_field_work_orders_device_pk"), ["device_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_field_work_orders_organisation_id"), ["organisation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("field_work_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_field_work_orders_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_field_work_orders_device_pk"))

    op.drop_table("field_work_orders")
    op.drop_table("field_status")
    with op.batch_alter_table("field_offline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_field_offline_device_pk"))

    op.drop_table("field_offline")
    with op.batch_alter_table("field_events", schema=None) as batch_op:
        batch_op.drop_index("ix_field_events_device_time")

    op.drop_table("field_events")
    with op.batch_alter_table("field_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_field_devices_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_field_devices_instrument_id"))

    op.drop_table("field_devices")
    op.drop_table("field_refusals")
