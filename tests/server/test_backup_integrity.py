"""Restore refuses a doctored archive before it replaces anything, and restores exactly what was backed up.

Attacks by someone holding the backup: edit a record in the archive (fixing the manifest's hashes), remove the
signature, strip the MACs, duplicate a key, restore an old archive over newer history.  Before revision 0113 a
doctored archive restored with exit 0 and a duplicated key answered a 68-line traceback.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text
from tests.server.conftest import INSTRUMENT, Platform, Store

from hengqi.cli import cli
from hengqi.server.admin import verify_audit
from hengqi.server.backup import backup, restore
from hengqi.server.db.models import Instrument
from hengqi.server.errors import AuditChainError, BackupError

Edit = Callable[[dict[str, bytes]], None]


def _made(platform: Platform, archive: Path) -> dict[str, str]:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    for serial in ("S1", "S2"):
        assert platform.client.post(
            "/api/v1/instruments", json={**INSTRUMENT, "serial": serial}, headers=tech
        ).is_success
    site = platform.client.post("/api/v1/sites", json={"name": "Yard", "latitude": "0.100"}, headers=tech)
    assert site.status_code == 201, site.text
    backup(platform.database, platform.app.state.hengqi.files, archive)
    return tech


def _doctor(archive: Path, target: Path, edit: Edit, *, keep_signature: bool = True) -> None:
    """Rewrite ``archive`` into ``target`` with ``edit`` applied to its members, the manifest's hashes fixed."""
    with zipfile.ZipFile(archive) as original:
        members = {name: original.read(name) for name in original.namelist()}
    edit(members)
    manifest = json.loads(members["manifest.json"])
    for name, entry in manifest["tables"].items():
        data = members[f"tables/{name}.json"]
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        entry["rows"] = len(json.loads(data))
    if not keep_signature:
        manifest.pop("signature", None)
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(target, "w") as out:
        for name, content in members.items():
            out.writestr(name, content)


def _table(members: dict[str, bytes], name: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(members[f"tables/{name}.json"])
    return rows


def _put(members: dict[str, bytes], name: str, rows: list[dict[str, object]]) -> None:
    members[f"tables/{name}.json"] = json.dumps(rows).encode()


def _serials(platform: Platform) -> list[str]:
    with platform.database.read_session() as session:
        return list(session.scalars(select(Instrument.serial).order_by(Instrument.id)))


def _swap_serial(members: dict[str, bytes]) -> None:
    rows = _table(members, "instruments")
    rows[0]["serial"] = "SWAPPED"
    _put(members, "instruments", rows)


def _strip_macs(members: dict[str, bytes]) -> None:
    rows = _table(members, "audit_log")
    for row in rows:
        row["mac"] = None
    _put(members, "audit_log", rows)


@pytest.mark.parametrize(
    ("edits", "keep_signature", "expected"),
    [
        ([_swap_serial], True, "manifest signature does not verify"),
        ([_swap_serial], False, "archive is not signed, yet its audit trail carries MACs"),
        ([_swap_serial, _strip_macs], False, "instruments row 1 differs"),
    ],
    ids=["edited", "signature-removed", "signature-and-macs-removed"],
)
def test_a_doctored_archive_is_refused_before_anything_is_replaced(
    platform: Platform, tmp_path: Path, edits: list[Edit], keep_signature: bool, expected: str
) -> None:
    archive, doctored = tmp_path / "a.zip", tmp_path / "doctored.zip"
    _made(platform, archive)

    def edit(members: dict[str, bytes]) -> None:
        for step in edits:
            step(members)

    _doctor(archive, doctored, edit, keep_signature=keep_signature)
    if not keep_signature and _strip_macs in edits:  # a store that never had checkpoints: only the rows can tell
        (platform.store.data_dir / "audit-checkpoints.jsonl").unlink()
    before = _serials(platform)
    with pytest.raises(BackupError, match=expected):
        restore(platform.database, platform.app.state.hengqi.files, doctored, force=True)
    assert _serials(platform) == before == ["S1", "S2"]


def test_duplicate_keys_are_refused_in_one_line_with_exit_2(
    platform: Platform, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "a.zip"
    _made(platform, archive)

    def twice(members: dict[str, bytes]) -> None:
        rows = _table(members, "instruments")
        _put(members, "instruments", [*rows, dict(rows[0])])

    def twice_in_an_object(members: dict[str, bytes]) -> None:
        members["tables/sites.json"] = members["tables/sites.json"].replace(b'"name":', b'"id": 9, "name":', 1)

    store = platform.store
    for edit, expected in ((twice, "duplicate primary key (id=1)"), (twice_in_an_object, "duplicate keys ['id']")):
        doctored = tmp_path / f"{edit.__name__}.zip"
        _doctor(archive, doctored, edit, keep_signature=False)
        code = cli(
            [
                "restore",
                "--force",
                "--data-dir",
                str(store.data_dir),
                "--database-url",
                store.database_url,
                str(doctored),
            ]
        )
        err = capsys.readouterr().err
        assert code == 2
        assert len(err.strip().splitlines()) == 1
        assert expected in err
        assert "Traceback" not in err
    assert _serials(platform) == ["S1", "S2"]


def test_restore_removes_files_not_in_the_backup_and_keeps_its_own(platform: Platform, tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    tech = _made(platform, archive)
    files = platform.app.state.hengqi.files
    stray = files.put(b"a file that the archive does not have")
    instrument = platform.client.post("/api/v1/instruments", json={**INSTRUMENT, "serial": "S3"}, headers=tech).json()
    cert = platform.client.post(
        "/api/v1/certificates",
        json={"number": "C9", "kind": "calibration", "instrument_id": instrument["id"]},
        headers=tech,
    ).json()["id"]
    uploaded = platform.client.put(
        f"/api/v1/certificates/{cert}/file", files={"file": ("c.pdf", b"%PDF later", "application/pdf")}, headers=tech
    )
    assert uploaded.is_success
    later = hashlib.sha256(b"%PDF later").hexdigest()
    assert files.path(later).exists()
    restore(platform.database, files, archive, force=True, rollback=True)
    assert not files.path(stray).exists()
    assert not files.path(later).exists()
    assert verify_audit(platform.database).entries > 0


def test_an_older_archive_needs_rollback_and_is_recorded(platform: Platform, tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    tech = _made(platform, archive)
    assert platform.client.post("/api/v1/instruments", json={**INSTRUMENT, "serial": "S3"}, headers=tech).is_success
    from hengqi.cli import cli as run

    store = platform.store
    assert run(["audit", "checkpoint", "--data-dir", str(store.data_dir), "--database-url", store.database_url]) == 0
    with pytest.raises(BackupError, match=r"newest rows were deleted.*--rollback"):
        restore(platform.database, platform.app.state.hengqi.files, archive, force=True)
    assert _serials(platform) == ["S1", "S2", "S3"]
    restore(platform.database, platform.app.state.hengqi.files, archive, force=True, rollback=True)
    assert _serials(platform) == ["S1", "S2"]
    report = verify_audit(platform.database)
    assert report.bound_rows > 0
    lines = (store.data_dir / "audit-checkpoints.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["kind"] == "restore"
    assert json.loads(lines[-1])["entries"] == report.entries


def test_decimals_come_back_as_written(sqlite_store: Store, tmp_path: Path) -> None:
    source = Platform(sqlite_store)
    archive = tmp_path / "a.zip"
    _made(source, archive)
    source.close()
    with zipfile.ZipFile(archive) as zipped:
        sites = json.loads(zipped.read("tables/sites.json"))
    assert sites[0]["latitude"] == "0.100"
    other = Store("sqlite", tmp_path / "other", f"sqlite:///{tmp_path / 'other' / 'h.sqlite3'}")
    other.data_dir.mkdir()
    shutil.copy2(sqlite_store.data_dir / "audit-key.pem", other.data_dir / "audit-key.pem")
    target = Platform(other)
    restore(target.database, target.app.state.hengqi.files, archive)
    with target.database.engine.connect() as connection:
        assert connection.execute(text("SELECT latitude FROM sites")).scalar_one() == "0.100"
    verify_audit(target.database)
    target.close()


def test_a_restored_store_whose_rows_are_then_edited_fails_verification(platform: Platform, tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    _made(platform, archive)
    restore(platform.database, platform.app.state.hengqi.files, archive, force=True)
    verify_audit(platform.database)
    with platform.database.engine.begin() as connection:
        connection.execute(text("UPDATE sites SET name = 'Elsewhere'"))
    with pytest.raises(AuditChainError, match="sites row 1 differs"):
        verify_audit(platform.database)


def test_a_deeply_nested_or_malformed_member_is_refused_in_one_line(
    platform: Platform, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "a.zip"
    _made(platform, archive)
    store = platform.store
    for index, content in enumerate((b"[" * 100000 + b"]" * 100000, b"[1, 2]", b'[{"id": "x"}]', b"{}")):
        with zipfile.ZipFile(archive) as original:
            members = {name: original.read(name) for name in original.namelist()}
        members["tables/sites.json"] = content
        manifest = json.loads(members["manifest.json"])
        manifest["tables"]["sites"] = {"rows": 1, "sha256": hashlib.sha256(content).hexdigest()}
        members["manifest.json"] = json.dumps(manifest).encode()
        doctored = tmp_path / f"nested-{index}.zip"
        with zipfile.ZipFile(doctored, "w") as out:
            for name, data in members.items():
                out.writestr(name, data)
        where = ["--data-dir", str(store.data_dir), "--database-url", store.database_url]
        code = cli(["restore", "--force", *where, str(doctored)])
        err = capsys.readouterr().err
        assert code == 2, content[:20]
        assert len(err.strip().splitlines()) == 1
        assert "Traceback" not in err
    assert _serials(platform) == ["S1", "S2"]
