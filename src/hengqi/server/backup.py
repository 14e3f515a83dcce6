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

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.types import JSON, Date

from hengqi.server.db.engine import Database
from hengqi.server.db.migrate import current_revision
from hengqi.server.db.models import Base
from hengqi.server.db.types import ExactDecimal, UTCDateTime, utcnow
from hengqi.server.errors import BackupError
from hengqi.server.files import FileStore

FORMAT: Final = "hengqi-backup"
VERSION: Final = 1


def _to_json(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _from_json(table: Table, column: str, value: Any) -> Any:
    if value is None:
        return None
    kind = table.c[column].type
    if isinstance(kind, UTCDateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, ExactDecimal):
        return Decimal(value)
    if isinstance(kind, JSON):
        return value
    return value


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
                for row in connection.execute(select(table).order_by(*order))
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
        archive.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))


def _read_archive(source: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], dict[str, bytes]]:
    """Read and check every member of the archive (hashes, sizes, format); nothing is written."""
    try:
        with zipfile.ZipFile(source) as archive:
            bad = archive.testzip()
            if bad is not None:
                raise BackupError(str(source), f"member {bad} is corrupt (CRC mismatch)")
            manifest = json.loads(archive.read("manifest.json"))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise BackupError(str(source), "not a hengqi backup (manifest format)")
            if manifest.get("version") != VERSION:
                raise BackupError(str(source), f"backup format version {manifest.get('version')} is not supported")
            tables: dict[str, list[dict[str, Any]]] = {}
            for name, entry in manifest["tables"].items():
                data = archive.read(f"tables/{name}.json")
                if _sha(data) != entry["sha256"]:
                    raise BackupError(f"tables/{name}.json", "SHA-256 does not match the manifest")
                rows = json.loads(data)
                if not isinstance(rows, list) or len(rows) != entry["rows"]:
                    raise BackupError(f"tables/{name}.json", "row count does not match the manifest")
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


def _is_empty(database: Database) -> bool:
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if connection.execute(select(func.count()).select_from(table)).scalar_one():
                return False
    return True


def restore(database: Database, files: FileStore, source: Path, *, force: bool = False) -> BackupSummary:
    """Replace the store's contents with the archive's (the schema must already be at the archive's revision)."""
    manifest, tables, blobs = _read_archive(source)
    revision = current_revision(database.engine)
    if manifest["revision"] != revision:
        raise BackupError(
            str(source), f"archive is of schema revision {manifest['revision']}, the store is at {revision}"
        )
    known = {table.name for table in Base.metadata.sorted_tables}
    if set(tables) != known:
        raise BackupError(str(source), f"tables differ from this version's: {sorted(set(tables) ^ known)}")
    if not force and not _is_empty(database):
        raise BackupError("--force", "the store already holds data; restoring would replace it (use --force)")
    for content in blobs.values():
        files.put(content)
    with database.write_session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        for table in Base.metadata.sorted_tables:
            _insert(session, table, tables[table.name])
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
    rows_by_table = {name: len(rows) for name, rows in tables.items()}
    return BackupSummary(manifest["revision"], rows_by_table, len(blobs), manifest.get("audit", {}).get("head"))


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
    for column in self_refs:
        pk = next(iter(table.primary_key.columns)).name
        for row in rows:
            if row.get(column) is not None:
                session.execute(update(table).where(table.c[pk] == row[pk]).values({column: row[column]}))
