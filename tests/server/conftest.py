"""Fixtures of the server tests: a fresh store on SQLite and on the real PostgreSQL server, apps, users.

PostgreSQL: one database ``hengqi_test_<random>`` per test session on 127.0.0.1:5432 (user postgres, trust auth,
started by ``scripts/ensure-services.sh``), migrated once, emptied before each test, dropped at the end.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from hengqi.server.app import create_app
from hengqi.server.db.engine import make_engine
from hengqi.server.db.migrate import upgrade
from hengqi.server.db.models import Base, Organisation
from hengqi.server.permissions import Principal, Role
from hengqi.server.schemas.accounts import TokenCreate, UserCreate
from hengqi.server.schemas.registry import OrganisationCreate
from hengqi.server.services import accounts
from hengqi.server.settings import Settings

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "correct-horse-battery"


def _pg_admin(statement: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Tests make many users: use argon2id with small costs (the parameters travel inside each hash)."""
    from argon2 import PasswordHasher

    from hengqi.server import security

    saved = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._hasher = saved


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (migrated to head), dropped afterwards."""
    name = f"hengqi_test_{secrets.token_hex(6)}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    _pg_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')


def empty_pg(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@dataclass(frozen=True)
class Store:
    backend: str
    data_dir: Path
    database_url: str

    def settings(self, **extra: object) -> Settings:
        return Settings(env="test", data_dir=self.data_dir, database_url=self.database_url, **extra)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A fresh, empty store (migrated) on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'hengqi.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_database")
        empty_pg(url)
    return Store(request.param, tmp_path / "data", url)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    return Store("sqlite", tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'hengqi.sqlite3'}")


class Platform:
    """A running app (in-process) with helpers to make organisations and users with API tokens."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.app = create_app(store.settings())
        self.client = TestClient(self.app)
        self.database = self.app.state.hengqi.database

    def organisation(self, name: str) -> int:
        with self.database.write_session() as session:
            org = accounts.create_organisation(session, accounts.SYSTEM, OrganisationCreate(name=name))
            session.commit()
            return org.id

    def user(self, username: str, role: Role | str, organisation_id: int) -> tuple[int, dict[str, str]]:
        """A user and the headers of a fresh API token of theirs."""
        with self.database.write_session() as session:
            user = accounts.create_user(
                session,
                accounts.SYSTEM,
                UserCreate(username=username, password=PASSWORD, role=Role(role), organisation_id=organisation_id),
            )
            session.flush()
            principal = Principal(user.id, user.username, Role(role), organisation_id)
            _row, token = accounts.create_token(session, principal, TokenCreate(name="test"))
            session.commit()
            return user.id, {"Authorization": f"Bearer {token}"}

    def org_id(self, name: str) -> int:
        with self.database.read_session() as session:
            from sqlalchemy import select

            value = session.scalar(select(Organisation.id).where(Organisation.name == name))
            assert value is not None
            return value

    def close(self) -> None:
        self.client.close()
        self.database.dispose()


@pytest.fixture
def platform(store: Store) -> Iterator[Platform]:
    p = Platform(store)
    yield p
    p.close()


INSTRUMENT = {
    "make": "Acme",
    "model": "Counter 15",
    "serial": "S-1",
    "accuracy_class": "III",
    "max": "15 kg",
    "e": "5 g",
}
