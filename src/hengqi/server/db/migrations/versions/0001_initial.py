"""initial registry, users, audit trail

Revision ID: 0001
Revises:
Create Date: 2026-11-25 12:21:31.163887
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hengqi.server.db.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("old_values", sa.Text(), nullable=False),
        sa.Column("new_values", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_entity", ["entity", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("deleted_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    op.create_table(
        "stored_files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_stored_files")),
    )
    op.create_table(
        "laboratories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("accreditation", sa.String(length=200), nullable=False),
        sa.Column("traceable_to_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_laboratories_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["traceable_to_id"], ["laboratories.id"], name=op.f("fk_laboratories_traceable_to_id_laboratories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_laboratories")),
    )
    with op.batch_alter_table("laboratories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_laboratories_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "procedures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("standard", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_procedures_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedures")),
    )
    with op.batch_alter_table("procedures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_procedures_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("latitude", hengqi.server.db.types.ExactDecimal(), nullable=True),
        sa.Column("longitude", hengqi.server.db.types.ExactDecimal(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_sites_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sites_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_users_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("make", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column("type_approval", sa.String(length=100), nullable=False),
        sa.Column("accuracy_class", sa.String(length=4), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("max_kg", hengqi.server.db.types.ExactDecimal(), nullable=False),
        sa.Column("min_kg", hengqi.server.db.types.ExactDecimal(), nullable=False),
        sa.Column("e_kg", hengqi.server.db.types.ExactDecimal(), nullable=False),
        sa.Column("d_kg", hengqi.server.db.types.ExactDecimal(), nullable=False),
        sa.Column("ranges", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("verification_due", sa.Date(), nullable=True),
        sa.Column("calibration_due", sa.Date(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_instruments_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_instruments_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruments")),
        sa.UniqueConstraint("organisation_id", "make", "model", "serial", name="uq_instruments_identity"),
    )
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instruments_calibration_due"), ["calibration_due"], unique=False)
        batch_op.create_index(batch_op.f("ix_instruments_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_instruments_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_instruments_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_instruments_verification_due"), ["verification_due"], unique=False)

    op.create_table(
        "regulator_grants",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_regulator_grants_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_regulator_grants_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "organisation_id", name=op.f("pk_regulator_grants")),
    )
    op.create_table(
        "weight_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("weight_class", sa.String(length=8), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column("laboratory_id", sa.Integer(), nullable=True),
        sa.Column("certificate_number", sa.String(length=100), nullable=False),
        sa.Column("calibrated_on", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["laboratory_id"], ["laboratories.id"], name=op.f("fk_weight_sets_laboratory_id_laboratories")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_weight_sets_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weight_sets")),
    )
    with op.batch_alter_table("weight_sets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_weight_sets_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_weight_sets_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("performed_by_id", sa.Integer(), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("raw_data", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("weight_ids", sa.JSON(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["instrument_id"], ["instruments.id"], name=op.f("fk_runs_instrument_id_instruments")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_runs_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["performed_by_id"], ["users.id"], name=op.f("fk_runs_performed_by_id_users")),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedures.id"], name=op.f("fk_runs_procedure_id_procedures")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_instrument_id"), ["instrument_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_runs_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "weights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("weight_set_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=50), nullable=False),
        sa.Column("nominal_kg", hengqi.server.db.types.ExactDecimal(), nullable=False),
        sa.Column("weight_class", sa.String(length=8), nullable=False),
        sa.Column("correction_kg", hengqi.server.db.types.ExactDecimal(), nullable=False),
        sa.Column("u_kg", hengqi.server.db.types.ExactDecimal(), nullable=False),
        sa.Column("k", hengqi.server.db.types.ExactDecimal(), nullable=False),
        sa.Column("certificate_number", sa.String(length=100), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_weights_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["weight_set_id"], ["weight_sets.id"], name=op.f("fk_weights_weight_set_id_weight_sets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weights")),
    )
    with op.batch_alter_table("weights", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_weights_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_weights_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_weights_weight_set_id"), ["weight_set_id"], unique=False)

    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["approved_by_id"], ["users.id"], name=op.f("fk_certificates_approved_by_id_users")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_certificates_created_by_id_users")),
        sa.ForeignKeyConstraint(
            ["file_sha256"], ["stored_files.sha256"], name=op.f("fk_certificates_file_sha256_stored_files")
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_certificates_instrument_id_instruments")
        ),
        sa.ForeignKeyConstraint(["issued_by_id"], ["users.id"], name=op.f("fk_certificates_issued_by_id_users")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_certificates_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_certificates_run_id_runs")),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["certificates.id"], name=op.f("fk_certificates_supersedes_id_certificates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("organisation_id", "number", name="uq_certificates_number"),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_instrument_id"), ["instrument_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_status"), ["status"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_status"))
        batch_op.drop_index(batch_op.f("ix_certificates_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_instrument_id"))

    op.drop_table("certificates")
    with op.batch_alter_table("weights", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weights_weight_set_id"))
        batch_op.drop_index(batch_op.f("ix_weights_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_weights_due_date"))

    op.drop_table("weights")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_runs_instrument_id"))

    op.drop_table("runs")
    with op.batch_alter_table("weight_sets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weight_sets_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_weight_sets_due_date"))

    op.drop_table("weight_sets")
    op.drop_table("regulator_grants")
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instruments_verification_due"))
        batch_op.drop_index(batch_op.f("ix_instruments_status"))
        batch_op.drop_index(batch_op.f("ix_instruments_site_id"))
        batch_op.drop_index(batch_op.f("ix_instruments_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_instruments_calibration_due"))

    op.drop_table("instruments")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_organisation_id"))

    op.drop_table("users")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sites_organisation_id"))

    op.drop_table("sites")
    with op.batch_alter_table("procedures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procedures_organisation_id"))

    op.drop_table("procedures")
    with op.batch_alter_table("laboratories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_laboratories_organisation_id"))

    op.drop_table("laboratories")
    op.drop_table("stored_files")
    op.drop_table("organisations")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_organisation_id"))
        batch_op.drop_index("ix_audit_log_entity")

    op.drop_table("audit_log")
