"""``hengqi serve`` from a fresh start, and the store's commands: db, users create-admin, audit verify, backup."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import httpx
import pytest
from tests.server.conftest import INSTRUMENT
from tests.server.live import LiveServer, login_token

from hengqi.cli import cli
from hengqi.server.db.migrate import head_revision

PASSWORD = "a-long-admin-password"


def _create_admin(monkeypatch: pytest.MonkeyPatch, data_dir: Path, username: str, organisation: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    return cli(
        [
            "users",
            "create-admin",
            "--data-dir",
            str(data_dir),
            "--username",
            username,
            "--organisation",
            organisation,
            "--password-stdin",
        ]
    )


@pytest.mark.slow
def test_fresh_start_serve_admin_instrument_401_and_404(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "data"
    assert not data_dir.exists()
    with LiveServer(data_dir) as server:
        health = server.wait_healthy()
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert (data_dir / "hengqi.sqlite3").exists()
        assert _create_admin(monkeypatch, data_dir, "root", "Lab A") == 0
        admin = login_token(server.base, "root", PASSWORD)
        with httpx.Client(base_url=server.base, timeout=30) as client:
            created = client.post("/api/v1/instruments", json=INSTRUMENT, headers=admin)
            assert created.status_code == 201, created.text
            key = created.json()["id"]
            anonymous = client.get(f"/api/v1/instruments/{key}")
            assert anonymous.status_code == 401
            assert anonymous.json()["error"]["code"] == "not_authenticated"
            org_b = client.post("/api/v1/organisations", json={"name": "Lab B"}, headers=admin).json()["id"]
            body = {"username": "bob", "password": PASSWORD, "role": "quality-manager", "organisation_id": org_b}
            assert client.post("/api/v1/users", json=body, headers=admin).status_code == 201
        bob = login_token(server.base, "bob", PASSWORD)
        other = httpx.get(f"{server.base}/api/v1/instruments/{key}", headers=bob, timeout=30)
        assert other.status_code == 404
        assert other.json()["error"]["code"] == "not_found"
    assert cli(["audit", "verify", "--data-dir", str(data_dir)]) == 0


def test_db_upgrade_and_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "data"
    assert cli(["db", "current", "--data-dir", str(data_dir)]) == 1
    assert "(none)" in capsys.readouterr().out
    assert cli(["db", "upgrade", "--data-dir", str(data_dir)]) == 0
    assert cli(["db", "current", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert f"current: {head_revision()}" in out


def test_create_admin_refuses_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli(["users", "create-admin", "--data-dir", str(data_dir), "--username", "x", "--password-stdin"]) == 2
    assert "password" in capsys.readouterr().err
    assert _create_admin(monkeypatch, data_dir, "root", "Lab") == 0
    assert _create_admin(monkeypatch, data_dir, "root", "Lab") == 2
    assert "already exists" in capsys.readouterr().err


def test_unsafe_production_settings_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HENGQI_ENV", "production")
    monkeypatch.delenv("HENGQI_SECRET_KEY", raising=False)
    assert cli(["serve", "--data-dir", str(tmp_path / "d")]) == 2
    assert "secret_key" in capsys.readouterr().err
    monkeypatch.setenv("HENGQI_DATABASE_URL", "mysql://nope")
    monkeypatch.setenv("HENGQI_ENV", "development")
    assert cli(["db", "current"]) == 2


def test_backup_restore_round_trip_and_refusals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = tmp_path / "a", tmp_path / "b"
    assert _create_admin(monkeypatch, source, "root", "Lab") == 0
    archive = tmp_path / "store.zip"
    assert cli(["backup", "--data-dir", str(source), str(archive)]) == 0
    assert cli(["backup", "--data-dir", str(source), str(archive)]) == 2  # never overwrites
    assert cli(["restore", "--data-dir", str(target), str(archive)]) == 2  # another audit key: refused
    assert "restore with the key that made it" in capsys.readouterr().err
    for store in (target, tmp_path / "c", tmp_path / "d"):  # the audit key travels apart from the archive
        store.mkdir(exist_ok=True)
        (store / "audit-key.pem").unlink(missing_ok=True)
        shutil.copy2(source / "audit-key.pem", store / "audit-key.pem")
    assert cli(["restore", "--data-dir", str(target), str(archive)]) == 0
    assert cli(["audit", "verify", "--data-dir", str(target)]) == 0
    assert cli(["restore", "--data-dir", str(target), str(archive)]) == 2
    assert "--force" in capsys.readouterr().err
    assert cli(["restore", "--data-dir", str(target), "--force", str(archive)]) == 0
    corrupt = tmp_path / "corrupt.zip"
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as original:
        member = original.getinfo("tables/audit_log.json")
    start = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra)
    data[start + member.compress_size // 2] ^= 0xFF  # a byte inside the member's compressed data
    corrupt.write_bytes(bytes(data))
    assert cli(["restore", "--data-dir", str(tmp_path / "c"), str(corrupt)]) == 2
    assert "corrupt" in capsys.readouterr().err
    # a member changed and re-packed with a valid CRC: its hash no longer matches the manifest
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(archive) as original, zipfile.ZipFile(forged, "w") as out:
        for name in original.namelist():
            content = original.read(name)
            if name == "tables/users.json":
                content = content.replace(b'"admin"', b'"technician"')
            out.writestr(name, content)
    assert cli(["restore", "--data-dir", str(tmp_path / "d"), str(forged)]) == 2
    assert "SHA-256 does not match" in capsys.readouterr().err
    assert not (tmp_path / "d" / "files").exists() or not any((tmp_path / "d" / "files").iterdir())
