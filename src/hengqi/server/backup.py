"""Backup and restore of the whole store as one portable archive.

The archive is a ZIP file::

    manifest.json           {"format": "hengqi-backup", "version": 1, "revision": <alembic revision>,
                             "created_at": ..., "tables": {name: {"rows": n, "sha256": ...}},
                             "files": {sha256: size}, "audit": {"entries": n, "head": <last hash>}}
    tables/<name>.json      every row of the table, as a JSON list of objects (decimals and instants as text)
    files/<sha256>          every stored file, named by its hash

It does not depend on the database engine: a SQLite store can be restored into PostgreSQL and back.  Restore
checks every hash before it touches the database, refuses an archive of another schema revision, and refuses to
overwrite a store that holds data unless ``force`` is given; it runs in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from sqlalchemy import String, Table, func, select, text, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import JSON, Date

from hengqi.server import audit
from hengqi.server.anchor import AuditAnchor
from hengqi.server.db.engine import Database
from hengqi.server.db.migrate import current_revision
from hengqi.server.db.models import Base
from hengqi.server.db.types import ExactDecimal, UTCDateTime, plain_decimal, utcnow
from hengqi.server.errors import AuditChainError, BackupError
from hengqi.server.files import FileStore
from hengqi.server.trail import TrailReport, entries_of, verify_entries

FORMAT: Final = "hengqi-backup"
VERSION: Final = 1


def _to_json(value: object) -> object:
    if isinstance(value, Decimal):  # PostgreSQL NUMERIC(38, 18) pads: its trailing zeros are not the writer's
        return str(plain_decimal(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _as_stored(table: Table) -> list[Any]:
    """The table's columns, exact decimals as the text stored (SQLite keeps "0.100" as written; reading through
    :class:`ExactDecimal` would drop the trailing zeros)."""
    return [
        type_coerce(column, String()).label(column.name) if isinstance(column.type, ExactDecimal) else column
        for column in table.columns
    ]


def _from_json(table: Table, column: str, value: Any) -> Any:
    if value is None:
        return None
    kind = table.c[column].type
    if isinstance(kind, UTCDateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, ExactDecimal):
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(f"{column}: {value!r} is not a finite decimal")
        return number
    if isinstance(kind, JSON):
        return value
    return value


def _signed_part(manifest: dict[str, Any]) -> bytes:
    unsigned = {key: value for key, value in manifest.items() if key != "signature"}
    return audit.canonical_json(unsigned).encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        duplicated = sorted({key for key in keys if keys.count(key) > 1})
        raise ValueError(f"duplicate keys {duplicated} in one object")
    return dict(pairs)


def _loads(data: bytes) -> Any:
    return json.loads(data, object_pairs_hook=_no_duplicates)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class BackupSummary:
    revision: str
    rows: dict[str, int]
    files: int
    audit_head: str | None = None


def backup(database: Database, files: FileStore, target: Path) -> BackupSummary:
    """Write the whole store to ``target`` (a new ZIP file; written beside it, then moved into place)."""
    revision = current_revision(database.engine)
    if revision is None:
        raise BackupError("database", "the store has never been migrated: nothing to back up")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "revision": revision,
        "created_at": utcnow().isoformat(),
        "tables": {},
        "files": {},
    }
    partial = target.with_name(target.name + ".partial")
    try:
        _write(database, files, partial, manifest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    rows_by_table = {name: entry["rows"] for name, entry in manifest["tables"].items()}
    return BackupSummary(revision, rows_by_table, len(manifest["files"]), manifest["audit"]["head"])


def _write(database: Database, files: FileStore, partial: Path, manifest: dict[str, Any]) -> None:
    options = {"isolation_level": "REPEATABLE READ"} if database.dialect == "postgresql" else {}
    with (
        database.engine.connect().execution_options(**options) as connection,  # one snapshot for every table
        zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            rows = [
                {key: _to_json(value) for key, value in row._mapping.items()}
                for row in connection.execute(select(*_as_stored(table)).order_by(*order))
            ]
            data = json.dumps(rows, ensure_ascii=False, sort_keys=True, indent=0).encode("utf-8")
            archive.writestr(f"tables/{table.name}.json", data)
            manifest["tables"][table.name] = {"rows": len(rows), "sha256": _sha(data)}
            if table.name == "audit_log":
                # an anchor for the hash chain, to keep apart from the store (see docs/server.md)
                manifest["audit"] = {"entries": len(rows), "head": rows[-1]["hash"] if rows else None}
            if table.name == "stored_files":
                for row in rows:
                    content = files.get(str(row["sha256"]))
                    archive.writestr(f"files/{row['sha256']}", content)
                    manifest["files"][row["sha256"]] = len(content)
        anchor = audit.database_anchor(database)
        if anchor is not None:  # tables, files and trail as written here: a doctored archive no longer verifies
            manifest["signature"] = {"key": anchor.fingerprint, "ed25519": anchor.sign(_signed_part(manifest))}
        archive.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))


def _read_archive(source: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], dict[str, bytes]]:
    """Read and check every member of the archive (hashes, sizes, format); nothing is written."""
    try:
        with zipfile.ZipFile(source) as archive:
            bad = archive.testzip()
            if bad is not None:
                raise BackupError(str(source), f"member {bad} is corrupt (CRC mismatch)")
            manifest = _loads(archive.read("manifest.json"))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise BackupError(str(source), "not a hengqi backup (manifest format)")
            if manifest.get("version") != VERSION:
                raise BackupError(str(source), f"backup format version {manifest.get('version')} is not supported")
            tables: dict[str, list[dict[str, Any]]] = {}
            for name, entry in manifest["tables"].items():
                data = archive.read(f"tables/{name}.json")
                if _sha(data) != entry["sha256"]:
                    raise BackupError(f"tables/{name}.json", "SHA-256 does not match the manifest")
                try:
                    rows = _loads(data)
                except ValueError as err:
                    raise BackupError(f"tables/{name}.json", f"not valid JSON ({err})") from None
                if not isinstance(rows, list) or len(rows) != entry["rows"]:
                    raise BackupError(f"tables/{name}.json", "row count does not match the manifest")
                _check_keys(name, rows)
                tables[name] = rows
            blobs: dict[str, bytes] = {}
            for digest, size in manifest["files"].items():
                content = archive.read(f"files/{digest}")
                if _sha(content) != digest or len(content) != size:
                    raise BackupError(f"files/{digest}", "content does not match its SHA-256")
                blobs[digest] = content
    except BackupError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        RuntimeError,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        OSError,
    ) as err:  # any failure to read the archive means it is corrupt
        raise BackupError(str(source), f"unreadable or incomplete archive ({type(err).__name__}: {err})") from err
    return manifest, tables, blobs


def _check_keys(name: str, rows: list[Any]) -> None:
    """Every row an object of this table's columns; no primary key twice (refused before the database sees it)."""
    table = Base.metadata.tables.get(name)
    if table is None:
        return  # an unknown table is refused by restore, naming it
    key_columns = [column.name for column in table.primary_key.columns]
    seen: set[tuple[Any, ...]] = set()
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or any(column not in row for column in key_columns):
            raise BackupError(f"tables/{name}.json[{index}]", "not a row of this table (primary key missing)")
        key = tuple(json.dumps(row[column], sort_keys=True) for column in key_columns)
        if key in seen:
            shown = ", ".join(f"{c}={row[c]!r}" for c in key_columns)
            raise BackupError(f"tables/{name}.json[{index}]", f"duplicate primary key ({shown})")
        seen.add(key)


def _is_empty(database: Database) -> bool:
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if connection.execute(select(func.count()).select_from(table)).scalar_one():
                return False
    return True


def restore(
    database: Database, files: FileStore, source: Path, *, force: bool = False, rollback: bool = False
) -> BackupSummary:
    """Replace the store's contents with the archive's (the schema must already be at the archive's revision).

    Before anything is replaced the archive's audit trail is verified (chain, MACs, the bound record rows, the
    manifest's signature, and the store's signed checkpoints: an archive older than the newest checkpoint is
    refused unless ``rollback``).  Stored files that are not in the archive are removed afterwards, and a signed
    ``restore`` checkpoint records the archive's head.
    """
    manifest, tables, blobs = _read_archive(source)
    revision = current_revision(database.engine)
    if manifest["revision"] != revision:
        raise BackupError(
            str(source), f"archive is of schema revision {manifest['revision']}, the store is at {revision}"
        )
    known = {table.name for table in Base.metadata.sorted_tables}
    if set(tables) != known:
        raise BackupError(str(source), f"tables differ from this version's: {sorted(set(tables) ^ known)}")
    anchor = audit.database_anchor(database)
    report = _verify_archive(source, manifest, tables, anchor, rollback=rollback)
    if not force and not _is_empty(database):
        raise BackupError("--force", "the store already holds data; restoring would replace it (use --force)")
    for content in blobs.values():
        files.put(content)
    with database.write_session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        try:
            for table in Base.metadata.sorted_tables:
                _insert(session, table, tables[table.name])
        except (IntegrityError, ValueError, TypeError) as err:
            session.rollback()
            reason = f"rows do not fit the schema ({type(err).__name__}); nothing was replaced"
            raise BackupError(str(source), reason) from None
        if database.dialect == "postgresql":
            for table in Base.metadata.sorted_tables:
                if "id" in table.c and table.c["id"].primary_key and table.name != "audit_log":
                    session.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                        )
                    )
        session.commit()
    _remove_stray_files(files, set(blobs))
    if anchor is not None:
        anchor.write_checkpoint(report.entries, report.head, kind="restore")
    rows_by_table = {name: len(rows) for name, rows in tables.items()}
    return BackupSummary(manifest["revision"], rows_by_table, len(blobs), manifest.get("audit", {}).get("head"))


def _verify_archive(
    source: Path,
    manifest: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]],
    anchor: AuditAnchor | None,
    *,
    rollback: bool,
) -> TrailReport:
    """Check the archive's signature and audit trail against the store's key and checkpoints (nothing written)."""
    signature = manifest.get("signature")
    entries = tables["audit_log"]
    if anchor is not None and signature is not None:
        if not isinstance(signature, dict) or signature.get("key") != anchor.fingerprint:
            theirs = signature.get("key") if isinstance(signature, dict) else None
            raise BackupError(
                str(source),
                f"archive was signed with audit key {theirs}, this store's is {anchor.fingerprint} "
                f"({anchor.key_file}); restore with the key that made it (HENGQI_AUDIT_KEY_FILE)",
            )
        if not anchor.verifies(_signed_part(manifest), str(signature.get("ed25519", ""))):
            raise BackupError(str(source), "manifest signature does not verify: the archive was altered")
    elif anchor is not None and any(row.get("mac") is not None for row in entries):
        raise BackupError(str(source), "archive is not signed, yet its audit trail carries MACs (signature removed)")

    def rows_of(name: str) -> list[dict[str, Any]]:
        table = Base.metadata.tables[name]
        return [{key: _from_json(table, key, value) for key, value in row.items()} for row in tables[name]]

    try:
        return verify_entries(entries_of(rows_of("audit_log")), rows_of, anchor, rollback=rollback)
    except AuditChainError as err:
        where = f" at audit row {err.row_id}" if err.row_id else ""
        hint = " (use --rollback to restore an older archive)" if "newest rows were deleted" in err.reason else ""
        raise BackupError(str(source), f"audit trail of the archive BROKEN{where}: {err.reason}{hint}") from None
    except (ValueError, TypeError) as err:
        raise BackupError(str(source), f"audit trail of the archive unreadable ({type(err).__name__})") from None


def _remove_stray_files(files: FileStore, keep: set[str]) -> None:
    """Delete stored files that the restored store does not name (left from what the archive replaced)."""
    if not files.root.is_dir():
        return
    for path in files.root.glob("*/*"):
        if path.is_file() and path.name not in keep:
            path.unlink()


def _insert(session: Any, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``; self-references are set after every row exists (foreign keys are checked at once)."""
    if not rows:
        return
    self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    unknown = set().union(*(row.keys() for row in rows)) - set(table.c.keys())
    if unknown:
        raise BackupError(f"tables/{table.name}.json", f"unknown columns {sorted(unknown)}")
    values = [
        {key: (None if key in self_refs else _from_json(table, key, value)) for key, value in row.items()}
        for row in rows
    ]
    for start in range(0, len(values), 1000):
        session.execute(table.insert(), values[start : start + 1000])
    # columns with an ``onupdate`` (updated_at) keep the archive's value, not the time of the restore
    kept = [c.name for c in table.columns if c.onupdate is not None and c.name not in self_refs]
    for column in self_refs:
        pk = next(iter(table.primary_key.columns)).name
        for row in rows:
            if row.get(column) is not None:
                fix = {column: row[column], **{name: _from_json(table, name, row.get(name)) for name in kept}}
                session.execute(update(table).where(table.c[pk] == row[pk]).values(fix))
