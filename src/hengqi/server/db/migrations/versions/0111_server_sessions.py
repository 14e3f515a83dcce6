"""server-side browser sessions (revocable; only the SHA-256 of the session id is stored)

Revision ID: 0111_server_sessions
Revises: 0100
Create Date: 2026-12-07 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hengqi.server.db.types

revision = "0111_server_sessions"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "browser_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", hengqi.server.db.types.UTCDateTime(), nullable=False),
        sa.Column("ended_at", hengqi.server.db.types.UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_browser_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_browser_sessions")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_browser_sessions_token_sha256")),
    )
    op.create_index(op.f("ix_browser_sessions_user_id"), "browser_sessions", ["user_id"], unique=False)
    op.create_index(op.f("ix_browser_sessions_created_at"), "browser_sessions", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_browser_sessions_created_at"), table_name="browser_sessions")
    op.drop_index(op.f("ix_browser_sessions_user_id"), table_name="browser_sessions")
    op.drop_table("browser_sessions")
