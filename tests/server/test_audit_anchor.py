"""Attacks on the audit trail by someone with write access to the database (and, last, to the data directory).

Each test performs the attack on the real store (SQLite and PostgreSQL) and expects ``hengqi audit verify`` to
exit 1 naming what was done; on the code before revision 0113 every one of these reported "intact".
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select, text
from tests.server.conftest import INSTRUMENT, Platform

from hengqi.cli import cli
from hengqi.server import audit
from hengqi.server.anchor import load_anchor
from hengqi.server.db.models import AuditEntry


def _cli(platform: Platform, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    store = platform.store
    code = cli([*args, "--data-dir", str(store.data_dir), "--database-url", store.database_url])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _verify(platform: Platform, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    return _cli(platform, capsys, "audit", "verify", *extra)


def _history(platform: Platform) -> dict[str, str]:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    for index in range(3):
        key = platform.client.post(
            "/api/v1/instruments", json={**INSTRUMENT, "serial": f"S{index}"}, headers=tech
        ).json()["id"]
        assert platform.client.patch(f"/api/v1/instruments/{key}", json={"model": f"M{index}"}, headers=tech).is_success
    return tech


def _count(platform: Platform) -> int:
    with platform.database.read_session() as session:
        return len(list(session.scalars(select(AuditEntry.id))))


def _sql(platform: Platform, statement: str, **params: object) -> None:
    with platform.database.engine.begin() as connection:
        connection.execute(text(statement), params)


def _rehash_from(platform: Platform, first: int) -> None:
    """What an attacker without the key can do: recompute every hash from row ``first`` on (SHA-256 is public)."""
    with platform.database.write_session() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        prev = entries[first - 2].hash if first > 1 else audit.GENESIS
        for entry in entries[first - 1 :]:
            entry.prev_hash = prev
            entry.hash = "pending-" + str(entry.id)  # keep the unique index happy while rewriting
        session.flush()
        for entry in entries[first - 1 :]:
            entry.prev_hash = prev
            entry.hash = audit.entry_hash(audit._hashed_fields(entry), prev)
            prev = entry.hash
        session.commit()


def test_an_untouched_history_verifies_with_macs_checkpoints_and_bound_rows(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(platform)
    assert _cli(platform, capsys, "audit", "checkpoint")[0] == 0
    code, out = _verify(platform, capsys)
    assert code == 0, out
    entries = _count(platform)
    assert f"intact: {entries} entries ({entries} with MAC)" in out
    assert "record rows bound" in out
    assert " 0 record rows bound" not in out
    key = platform.store.data_dir / "audit-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_deleting_the_newest_rows_is_detected(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _history(platform)
    assert _cli(platform, capsys, "audit", "checkpoint")[0] == 0
    entries = _count(platform)
    _sql(platform, "DELETE FROM audit_log WHERE id > :n", n=entries - 2)
    code, out = _verify(platform, capsys)
    assert code == 1
    assert f"records {entries} entries, the trail has {entries - 2}" in out
    assert "newest rows were deleted" in out


def test_checkpoints_every_entry_catch_deleting_the_last_row_without_a_manual_checkpoint(
    platform: Platform, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    platform.close()
    monkeypatch.setenv("HENGQI_AUDIT_CHECKPOINT_EVERY", "1")
    other = Platform(platform.store)
    _history(other)
    entries = _count(other)
    _sql(other, "DELETE FROM audit_log WHERE id = :n", n=entries)
    code, out = _verify(other, capsys)
    other.close()
    assert code == 1
    assert "newest rows were deleted" in out


def test_deleting_every_row_is_detected(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _history(platform)
    _sql(platform, "DELETE FROM audit_log")
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "the trail has 0" in out
    assert "intact" not in out


def test_rehashing_every_later_row_is_detected(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _history(platform)
    _sql(platform, "UPDATE audit_log SET actor = 'somebody-else' WHERE id = 4")
    _rehash_from(platform, 4)
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "row 4" in out
    assert "MAC does not match" in out


def test_stripping_every_mac_and_rehashing_is_detected(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _history(platform)
    assert _cli(platform, capsys, "audit", "checkpoint")[0] == 0
    _sql(platform, "UPDATE audit_log SET mac = NULL")
    _sql(platform, 'UPDATE audit_log SET new_values = \'{"model":"forged"}\' WHERE id = 6')
    _rehash_from(platform, 6)
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "no MAC" in out


def test_back_dating_a_row_is_detected(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _history(platform)
    _sql(platform, "UPDATE audit_log SET at = '2020-01-01T00:00:00.000000+00:00' WHERE id = 5")
    _rehash_from(platform, 5)
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "row 5" in out


def test_appending_a_forged_row_is_detected(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _history(platform)
    with platform.database.write_session() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        forged = AuditEntry(
            id=last.id + 1,
            at=last.at,
            actor_id=None,
            actor="admin",
            organisation_id=None,
            action="approve",
            entity="certificates",
            entity_id="99",
            old_values="{}",
            new_values='{"status":"approved"}',
            prev_hash=last.hash,
            mac="0" * 64,
        )
        forged.hash = audit.entry_hash(audit._hashed_fields(forged), last.hash)
        session.add(forged)
        session.commit()
        forged_id = forged.id
    code, out = _verify(platform, capsys)
    assert code == 1
    assert f"row {forged_id}" in out
    assert "MAC does not match" in out
    _sql(platform, "UPDATE audit_log SET mac = NULL WHERE id = :n", n=forged_id)
    code, out = _verify(platform, capsys)
    assert code == 1
    assert f"row {forged_id}" in out
    assert "no MAC" in out


def test_editing_a_record_table_directly_is_detected(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _history(platform)
    _sql(platform, "UPDATE instruments SET serial = 'SWAPPED' WHERE id = 2")
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "instruments row 2 differs" in out


def test_a_password_hash_set_in_the_database_is_detected(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(platform)
    _sql(platform, "UPDATE users SET password_hash = 'attacker-known', role = 'admin' WHERE username = 'tech'")
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "users row" in out
    assert "differs" in out


def test_a_row_inserted_or_deleted_directly_is_detected(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _history(platform)
    _sql(
        platform,
        "INSERT INTO sites (id, organisation_id, name, address, created_at, updated_at) "
        "VALUES (77, 1, 'ghost', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    )
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "sites row 77 has no audit entry" in out
    _sql(platform, "DELETE FROM sites WHERE id = 77")
    _sql(platform, "DELETE FROM instruments WHERE id = 3")
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "instruments row 3 is missing" in out


def test_an_edited_checkpoint_line_is_detected(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _history(platform)
    assert _cli(platform, capsys, "audit", "checkpoint")[0] == 0
    path = platform.store.data_dir / "audit-checkpoints.jsonl"
    lines = path.read_text().splitlines()
    last = json.loads(lines[-1])
    last["entries"] -= 1  # to hide deleting the newest row
    lines[-1] = json.dumps(last, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "signature does not verify" in out


def test_a_witness_catches_an_attacker_who_also_holds_the_data_directory(
    platform: Platform, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _history(platform)
    with platform.database.write_session() as session:  # newest entries of an entity not bound to a table
        for index in range(2):
            audit.record(
                session,
                actor=audit.Actor(None, "cli"),
                action="export",
                entity="exports",
                entity_id=index,
                organisation_id=None,
            )
        session.commit()
    witness = tmp_path / "witness.jsonl"
    code, out = _cli(platform, capsys, "audit", "checkpoint", "--export", str(witness))
    assert code == 0, out
    assert _verify(platform, capsys, "--witness", str(witness))[0] == 0
    entries = _count(platform)
    # the attacker deletes the newest rows and the local checkpoint file, which they can also reach
    _sql(platform, "DELETE FROM audit_log WHERE id > :n", n=entries - 2)
    (platform.store.data_dir / "audit-checkpoints.jsonl").unlink()
    assert _verify(platform, capsys)[0] == 0  # the store alone can no longer tell
    code, out = _verify(platform, capsys, "--witness", str(witness))
    assert code == 1
    assert "witness checkpoint" in out
    assert "newest rows were deleted" in out


def test_a_witness_of_another_key_is_refused(
    platform: Platform, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _history(platform)
    witness = tmp_path / "witness.jsonl"
    assert _cli(platform, capsys, "audit", "checkpoint", "--export", str(witness))[0] == 0
    platform.close()
    (platform.store.data_dir / "audit-key.pem").unlink()  # a new key, as an attacker replacing it would make
    (platform.store.data_dir / "audit-checkpoints.jsonl").unlink()
    anchor = load_anchor(platform.store.data_dir)
    assert anchor is not None
    with platform.database.write_session() as session:
        for entry in session.scalars(select(AuditEntry)):
            entry.mac = anchor.mac(entry.hash)  # every MAC made again with the attacker's key
        session.commit()
    assert _cli(platform, capsys, "audit", "checkpoint")[0] == 0
    assert _verify(platform, capsys)[0] == 0  # consistent with the new key
    code, out = _verify(platform, capsys, "--witness", str(witness))
    assert code == 1
    assert "witness was signed with key" in out


def test_the_api_reports_a_direct_edit(platform: Platform) -> None:
    org = platform.organisation("A")
    _, admin = platform.user("boss", "admin", org)
    platform.client.post("/api/v1/instruments", json=INSTRUMENT, headers=admin)
    assert platform.client.get("/api/v1/audit/verify", headers=admin).json()["ok"] is True
    _sql(platform, "UPDATE instruments SET accuracy_class = 'I'")
    answer = platform.client.get("/api/v1/audit/verify", headers=admin).json()
    assert answer["ok"] is False
    assert "instruments row 1 differs" in answer["reason"]


def test_a_missing_key_for_a_trail_with_macs_is_one_line_exit_2(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(platform)
    (platform.store.data_dir / "audit-key.pem").unlink()
    code, out = _verify(platform, capsys)
    assert code == 2
    assert len(out.strip().splitlines()) == 1
    assert "no audit key" in out


def _as_before_0113(platform: Platform) -> None:
    """Turn the store's trail into what a store upgraded from revision 0100 holds: no row digests, no MACs, no
    checkpoints (the chain re-hashed as the old code hashed it)."""
    _sql(platform, "UPDATE audit_log SET row_sha256 = NULL, mac = NULL")
    _rehash_from(platform, 1)
    (platform.store.data_dir / "audit-checkpoints.jsonl").unlink()


def test_rows_of_an_upgraded_store_are_bound_by_audit_bind(
    platform: Platform, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(platform)
    _as_before_0113(platform)
    code, out = _verify(platform, capsys)
    assert code == 0, out
    assert "last changed before revision 0113" in out
    code, out = _cli(platform, capsys, "audit", "bind")
    assert code == 0, out
    assert "record rows bound" in out
    assert not out.startswith("0 ")
    code, out = _verify(platform, capsys)
    assert code == 0, out
    assert "before revision 0113" not in out
    _sql(platform, "UPDATE instruments SET serial = 'SWAPPED' WHERE id = 1")
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "instruments row 1 differs" in out
    code, out = _cli(platform, capsys, "audit", "bind")
    assert code == 1
    assert "nothing bound" in out


def test_the_demo_store_verifies_with_every_record_row_bound(platform: Platform) -> None:
    from hengqi.server.admin import verify_audit
    from hengqi.server.demo import seed

    seed(platform.database)
    report = verify_audit(platform.database)
    assert report.bound_rows > 10
    assert report.unbound_rows == 0
    assert report.macs == report.entries


def test_a_damaged_checkpoint_file_is_a_broken_trail_and_a_bad_witness_is_bad_input(
    platform: Platform, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _history(platform)
    checkpoints = platform.store.data_dir / "audit-checkpoints.jsonl"
    with checkpoints.open("a") as out:
        out.write('{"v": 1, "seq": "x"}\n')
    code, out = _verify(platform, capsys)
    assert code == 1
    assert "not a checkpoint line" in out
    checkpoints.unlink()
    bad = ("", "not json\n", '{"format": "hengqi-audit-witness", "public_key": "!!"}\n', "[" * 100000 + "\n")
    for content in bad:
        witness = tmp_path / "w.jsonl"
        witness.write_text(content)
        code, out = _verify(platform, capsys, "--witness", str(witness))
        assert code == 2, content[:20]
        assert len(out.strip().splitlines()) == 1
        assert "witness" in out


def test_an_audit_key_readable_by_others_is_refused(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    _history(platform)
    key = platform.store.data_dir / "audit-key.pem"
    key.chmod(0o644)
    code, out = _verify(platform, capsys)
    assert code == 2
    assert len(out.strip().splitlines()) == 1
    assert "readable by others" in out
