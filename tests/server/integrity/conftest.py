"""Fixtures of the stored-data integrity tests: a real ``hengqi serve`` process with one organisation, its people
(API tokens) and an instrument, for the tests that attack stored records over HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from tests.server.conftest import INSTRUMENT, PASSWORD, Store, _pg_admin
from tests.server.live import LiveServer

from hengqi.server.admin import open_database
from hengqi.server.db.engine import Database
from hengqi.server.permissions import Principal, Role
from hengqi.server.schemas.accounts import TokenCreate, UserCreate
from hengqi.server.schemas.registry import OrganisationCreate
from hengqi.server.services import accounts

PEOPLE = {
    "tech": Role.TECHNICIAN,
    "tech2": Role.TECHNICIAN,
    "rev": Role.REVIEWER,
    "rev2": Role.REVIEWER,
    "qm": Role.QUALITY_MANAGER,
    "admin": Role.ADMIN,
}


@dataclass
class Seeded:
    server: LiveServer
    database: Database
    heads: dict[str, dict[str, str]]
    ids: dict[str, int]
    instrument: int
    other_heads: dict[str, str]

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=f"{self.server.base}/api/v1", headers=self.heads[who], timeout=30)


def _seed(database: Database, organisation: str, people: dict[str, Role]) -> tuple[dict[str, dict[str, str]], dict]:
    heads: dict[str, dict[str, str]] = {}
    ids: dict[str, int] = {}
    with database.write_session() as session:
        org = accounts.create_organisation(session, accounts.SYSTEM, OrganisationCreate(name=organisation))
        for username, role in people.items():
            user = accounts.create_user(
                session,
                accounts.SYSTEM,
                UserCreate(username=username, password=PASSWORD, role=role, organisation_id=org.id),
            )
            session.flush()
            principal = Principal(user.id, user.username, role, org.id)
            _row, token = accounts.create_token(session, principal, TokenCreate(name="test"))
            heads[username] = {"Authorization": f"Bearer {token}"}
            ids[username] = user.id
        session.commit()
    return heads, ids


@contextmanager
def seeded_server(store: Store) -> Iterator[Seeded]:
    """A live server on ``store`` with the people of :data:`PEOPLE` (organisation "Lab"), an outsider of another
    organisation ("other", a technician), and one instrument."""
    database = open_database(store.settings(), migrate=True)
    heads, ids = _seed(database, "Lab", PEOPLE)
    other, _ = _seed(database, "Elsewhere", {"other": Role.TECHNICIAN})
    server = LiveServer(store.data_dir, store.database_url)
    try:
        assert server.wait_healthy().status_code == 200
        made = httpx.post(f"{server.base}/api/v1/instruments", json=INSTRUMENT, headers=heads["tech"], timeout=30)
        assert made.status_code == 201, made.text
        yield Seeded(server, database, heads, ids, made.json()["id"], other["other"])
    finally:
        server.stop()
        database.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One seeded live server per backend for a whole test module (a start costs seconds).  On PostgreSQL it has
    a database of its own, so that the other tests' emptying of the shared test database cannot touch it."""
    data_dir = tmp_path_factory.mktemp("live") / "data"
    if request.param == "sqlite":
        with seeded_server(Store("sqlite", data_dir, f"sqlite:///{data_dir / 'hengqi.sqlite3'}")) as seeded:
            yield seeded
        return
    name = f"hengqi_live_{secrets.token_hex(6)}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        with seeded_server(
            Store("postgresql", data_dir, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
        ) as seeded:
            yield seeded
    finally:
        _pg_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
