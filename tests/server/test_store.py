"""The store: settings refuse unsafe defaults, SQLite runs WAL with synchronous=FULL, migrations make the schema,
exact decimals on both backends, the demo seed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from tests.server.conftest import Platform, Store

from hengqi.errors import InputError
from hengqi.server.db.engine import Database
from hengqi.server.db.migrate import current_revision, downgrade, head_revision, upgrade
from hengqi.server.demo import seed
from hengqi.server.settings import load_settings


@pytest.mark.parametrize("env", ["production", "staging"])
def test_unsafe_defaults_refused_outside_development(env: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="secret_key"):
        load_settings(env=env, data_dir=tmp_path)
    with pytest.raises(InputError, match="secret_key"):
        load_settings(env=env, data_dir=tmp_path, secret_key="short")
    with pytest.raises(InputError, match="cookie_secure"):
        load_settings(env=env, data_dir=tmp_path, secret_key="x" * 40)
    ok = load_settings(env=env, data_dir=tmp_path, secret_key="x" * 40, cookie_secure=True)
    assert ok.secret_key is not None
    assert ok.secret_key.get_secret_value() == "x" * 40
    assert "x" * 40 not in repr(ok)  # the key never shows in logs of the settings
    assert load_settings(data_dir=tmp_path).host == "127.0.0.1"
    assert load_settings(data_dir=tmp_path).port == 8000


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HENGQI_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("HENGQI_PORT", "9123")
    settings = load_settings()
    assert settings.port == 9123
    assert settings.effective_database_url().endswith("elsewhere/hengqi.sqlite3")
    monkeypatch.setenv("HENGQI_PORT", "not-a-port")
    with pytest.raises(InputError, match="port"):
        load_settings()


def test_settings_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings_file = tmp_path / "hengqi.env"
    settings_file.write_text("HENGQI_PORT=8123\nHENGQI_ENV=production\nHENGQI_SECRET_KEY=" + "k" * 40 + "\n")
    monkeypatch.setenv("HENGQI_SETTINGS_FILE", str(settings_file))
    with pytest.raises(InputError, match="cookie_secure"):
        load_settings(data_dir=tmp_path)
    settings = load_settings(data_dir=tmp_path, cookie_secure=True)
    assert (settings.port, settings.env) == (8123, "production")


def test_sqlite_is_wal_with_full_synchronous(sqlite_store: Store) -> None:
    database = Database(sqlite_store.database_url)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_migrations_make_and_remove_the_schema(sqlite_store: Store) -> None:
    database = Database(sqlite_store.database_url)
    assert current_revision(database.engine) is None
    upgrade(database.engine)
    assert current_revision(database.engine) == head_revision()
    tables = set(inspect(database.engine).get_table_names())
    assert {"instruments", "audit_log", "certificates", "weights", "runs", "users"} <= tables
    downgrade(database.engine, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    database.dispose()


def test_decimals_are_stored_exactly(platform: Platform) -> None:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    site = platform.client.post(
        "/api/v1/sites", json={"name": "S", "latitude": "31.230416", "longitude": "-121.473701"}, headers=tech
    ).json()
    assert (site["latitude"], site["longitude"]) == ("31.230416", "-121.473701")
    with platform.database.engine.connect() as connection:
        raw = connection.execute(text("SELECT latitude FROM sites")).scalar()
    assert Decimal(str(raw)) == Decimal("31.230416")
    assert not isinstance(raw, float)
    too_fine = platform.client.post("/api/v1/sites", json={"name": "S", "latitude": "1e-19"}, headers=tech)
    assert too_fine.status_code == 422


def test_demo_seed(store: Store) -> None:
    platform = Platform(store)
    accounts = seed(platform.database)
    assert sorted(a.role.value for a in accounts) == ["admin", "quality-manager", "regulator", "reviewer", "technician"]
    assert seed(platform.database) == []
    login = platform.client.post(
        "/api/v1/auth/login", json={"username": "demo-technician", "password": accounts[0].password}
    )
    assert login.status_code == 200
    assert platform.client.get("/api/v1/instruments").json()["total"] == 3
    platform.close()
