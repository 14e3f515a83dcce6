"""Alembic environment: runs on the engine handed over by :func:`hengqi.server.db.migrate.alembic_config`.

Importing this module outside a migration (e.g. doctest collection) does nothing.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from hengqi.server.db.models import Base


def run_migrations(engine: Engine) -> None:
    """Run the pending migrations on ``engine`` in one transaction."""
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


_config = getattr(context, "config", None)
if _config is not None:
    _engine = _config.attributes.get("engine")
    if not isinstance(_engine, Engine):  # pragma: no cover - only reachable through the alembic command line
        raise RuntimeError("run migrations through `hengqi db upgrade`")
    run_migrations(_engine)
