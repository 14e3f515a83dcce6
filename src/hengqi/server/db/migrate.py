"""Alembic migrations, run programmatically: the only way hengqi's schema is made or changed.

The migration scripts live in this package (``migrations/``) and ship with it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs on ``engine``'s connections."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@cache
def head_revision() -> str:
    """The newest revision of the packaged migrations.

    Read once per process: the scripts ship with the package and do not change while it runs (reading them costs
    about 4 ms, which the health probe used to pay on every call).
    """
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no migrations packaged")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None``: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def stored_revision(engine: Engine) -> str | None:
    """What :func:`current_revision` answers, in one query on one pooled connection when the version table holds
    one row (the health probe's case); otherwise (no table yet, several heads) Alembic's own answer."""
    with engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        except DBAPIError:
            connection.rollback()
            rows = []
        if len(rows) == 1:
            return str(rows[0])
        connection.rollback()
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema of ``engine``'s database to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the schema of ``engine``'s database to ``revision`` (``"base"``: drop everything)."""
    command.downgrade(alembic_config(engine), revision)
