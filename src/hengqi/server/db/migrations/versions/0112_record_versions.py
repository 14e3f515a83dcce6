"""record versions (optimistic locking) and run revisions

Revision ID: 0112_record_versions
Revises: 0111_server_sessions
Create Date: 2026-12-07 08:00:00

* ``row_version`` (integer, 1 for existing rows) on every table changed through the API: the version counter of
  optimistic locking (ETag / If-Match).
* ``runs.supersedes_id`` and ``runs.revision_reason``: a correction of a run is a new run naming the run it
  corrects and why; at most one correction per run (unique index).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0112_record_versions"
down_revision = "0111_server_sessions"
branch_labels = None
depends_on = None

VERSIONED = (
    "organisations",
    "users",
    "sites",
    "instruments",
    "laboratories",
    "weight_sets",
    "weights",
    "procedures",
    "runs",
    "certificates",
)


def upgrade() -> None:
    for table in VERSIONED:
        op.add_column(table, sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("runs", sa.Column("revision_reason", sa.Text(), nullable=False, server_default=""))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place (no table copy, which foreign keys would refuse)
        op.execute("ALTER TABLE runs ADD COLUMN supersedes_id INTEGER REFERENCES runs (id)")
    else:
        op.add_column("runs", sa.Column("supersedes_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_runs_supersedes_id_runs", "runs", "runs", ["supersedes_id"], ["id"])
    op.create_index("uq_runs_supersedes_id", "runs", ["supersedes_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_runs_supersedes_id", table_name="runs")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_runs_supersedes_id_runs", "runs", type_="foreignkey")
    op.drop_column("runs", "supersedes_id")
    op.drop_column("runs", "revision_reason")
    for table in VERSIONED:
        op.drop_column(table, "row_version")
