"""run integrity: performer and takeover, held readings, review returns, abandoned runs, one running run per
instrument, gapless certificate numbers

Revision ID: 0117_run_integrity
Revises: 0116_customers
Create Date: 2026-12-07 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0117_run_integrity"
down_revision = "0116_customers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("guided_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("performer_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("held_reading", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("review_status", sa.String(length=20), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("review_comment", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("abandon_reason", sa.Text(), nullable=False, server_default=""))
        batch_op.create_foreign_key(batch_op.f("fk_guided_runs_performer_id_users"), "users", ["performer_id"], ["id"])
    # Runs left running side by side on one instrument before this revision: all but the newest are abandoned
    # (the rule "one running run per instrument" then holds for the unique index below).
    op.execute(
        sa.text(
            "UPDATE guided_runs SET status = 'abandoned', "
            "abandon_reason = 'another run was started on the instrument (before one run per instrument was enforced)' "
            "WHERE status = 'running' AND id < (SELECT MAX(g.id) FROM guided_runs g "
            "WHERE g.instrument_id = guided_runs.instrument_id AND g.status = 'running')"
        )
    )
    op.create_index(
        "uq_guided_runs_active_instrument",
        "guided_runs",
        ["instrument_id"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "certificate_counters",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=40), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_certificate_counters_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("organisation_id", "prefix", name=op.f("pk_certificate_counters")),
    )


def downgrade() -> None:
    op.drop_table("certificate_counters")
    op.drop_index("uq_guided_runs_active_instrument", table_name="guided_runs")
    with op.batch_alter_table("guided_runs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_guided_runs_performer_id_users"), type_="foreignkey")
        batch_op.drop_column("abandon_reason")
        batch_op.drop_column("review_comment")
        batch_op.drop_column("review_status")
        batch_op.drop_column("held_reading")
        batch_op.drop_column("performer_id")
