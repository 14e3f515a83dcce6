"""``hengqi serve`` and the store's administration: ``db``, ``users``, ``audit``, ``backup``, ``restore``.

The command line only launches and administers the platform (:mod:`hengqi.server`); settings come from the
options given here, then ``HENGQI_*`` environment variables.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from hengqi.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])


def store_options(func: F) -> F:
    """``--data-dir`` and ``--database-url`` (default: the environment, then ``./data`` with SQLite)."""
    func = click.option(
        "--database-url",
        metavar="URL",
        help="e.g. postgresql+psycopg://user@host/db (default: SQLite in the data directory)",
    )(func)
    return click.option(
        "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="data directory (default ./data)"
    )(func)


def _settings(data_dir: Path | None, database_url: str | None, **extra: Any) -> Any:
    from hengqi.server.settings import load_settings

    return load_settings(data_dir=data_dir, database_url=database_url, **extra)


@click.command()
@store_options
@click.option("--host", help="address to listen on (default 127.0.0.1)")
@click.option("--port", type=click.IntRange(0, 65535), help="port (default 8000)")
@click.option("--env", "env", type=click.Choice(["development", "test", "staging", "production"]))
@click.option(
    "--demo", is_flag=True, help="add a demo organisation, one user per role (passwords printed), instruments"
)
@click.option("--log-level", default="info", type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option(
    "--access-log",
    is_flag=True,
    default=None,
    help="log method, path, status, duration and user id of each request (never cookies, tokens or passwords)",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="server processes (default: one per core, at most 2; or HENGQI_WORKERS); see docs/server.md for what "
    "each process keeps",
)
@click.option(
    "--compute",
    metavar="URL",
    help="where the province statistics run: embedded (default), dask://host:port or dask://local?workers=N",
)
@click.option(
    "--stream",
    metavar="nats://HOST:PORT",
    help="field alerts from JetStream detector workers ('hengqi field consume'): device profiles into the stream's "
    "bucket, the alerts stream into this server's database (docs/scale-out.md); default: the embedded path",
)
@click.option(
    "--stream-namespace",
    default="hengqi",
    show_default=True,
    help="the JetStream layout's namespace (as 'hengqi field ingest --namespace')",
)
def serve(
    *,
    data_dir: Path | None,
    database_url: str | None,
    host: str | None,
    port: int | None,
    env: str | None,
    demo: bool,
    log_level: str,
    access_log: bool | None,
    workers: int | None,
    compute: str | None,
    stream: str | None,
    stream_namespace: str,
) -> int:
    """Start the platform (REST API under /api/v1) with uvicorn; the store is created and migrated if new."""
    import uvicorn

    from hengqi.server import runtime
    from hengqi.server.app import create_app

    overrides: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "host": host,
        "port": port,
        "env": env,
        "access_log": access_log,
        "workers": workers,
        "compute": compute,
    }
    settings = _settings(**overrides)  # a bad --compute URL exits 2 here
    stream_layout = _stream_layout(stream, stream_namespace)  # a bad or unreachable --stream exits 2 here
    app = create_app(settings)  # refuses (exit 2) a non-loopback host without a configured session key
    if stream_layout is not None:
        _start_stream_sync(*stream_layout, app.state.hengqi.database)
    if demo:
        from hengqi.server.demo import seed

        accounts = seed(app.state.hengqi.database)
        credentials = Path(settings.data_dir) / "demo-credentials.txt"
        if accounts:
            lines = [f"demo account: {a.username:<24} role {a.role:<16} password {a.password}" for a in accounts]
            credentials.write_text("\n".join(lines) + "\n", encoding="utf-8")
            credentials.chmod(0o600)  # demo passwords: readable by the owner of the data directory only
        if credentials.is_file():
            click.echo(credentials.read_text(encoding="utf-8").rstrip("\n"))
            click.echo(f"(demo passwords kept in {credentials})")
        else:
            click.echo("demo data already present; its passwords were printed when it was made")
        from hengqi.server.demo import DEMO_ORGANISATION
        from hengqi.server.field.curves import CurveStore
        from hengqi.server.field.demo import seed_field
        from hengqi.server.web.demo import start_demo_fleet  # simulated instruments, served while the app runs

        curves = CurveStore(Path(settings.data_dir) / "field")
        if seed_field(app.state.hengqi.database, DEMO_ORGANISATION, curves):
            click.echo("demo field: 6 simulated field instruments and a day of their telemetry (web: /web/field)")
        fleet = start_demo_fleet(app.state.hengqi.database, settings.data_dir)
        for line in fleet.describe():
            click.echo(line)
        click.echo(f"web interface: http://{settings.host}:{settings.port}/web/")
    if settings.host not in ("127.0.0.1", "::1", "localhost") and settings.env == "development":
        click.echo(
            "hengqi: warning: development settings on a non-loopback address; set HENGQI_ENV=production", err=True
        )
    click.echo(f"hengqi: serving on http://{settings.host}:{settings.port}/api/v1 (docs: /api/v1/docs)", err=True)
    proxies = settings.forwarded_allow_ips
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "access_log": False,  # hengqi's own access log (--access-log) leaves out query strings and names the user
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        # measured in bench/bench_throughput.py, whose floor app runs under the same two (hengqi.server.runtime)
        "loop": runtime.SERVER_LOOP,
        "http": runtime.SERVER_HTTP,
    }
    if settings.workers == 1:
        runtime.settle_heap()  # full garbage collections no longer walk the start-up heap (p99 latency)
        uvicorn.run(app, **options)
        return 0
    # several processes: this one (which made, migrated and seeded the store above) supervises; each worker builds
    # its own app from the same settings (hengqi.server.workers)
    from hengqi.server import audit
    from hengqi.server.throttle import SHARED_FILE_ENV, fresh_shared_file
    from hengqi.server.workers import worker_environment

    os.environ.update(worker_environment(overrides))
    # the workers count sign-in and look-up failures together, in a file made afresh for this start
    os.environ[SHARED_FILE_ENV] = str(fresh_shared_file(settings.data_dir))
    click.echo(f"hengqi: {settings.workers} worker processes", err=True)
    try:
        uvicorn.run("hengqi.server.workers:worker_app", factory=True, workers=settings.workers, **options)
    finally:
        state = app.state.hengqi
        audit.checkpoint_on_shutdown(state.database)  # what this process wrote (e.g. the demo seed)
        state.close()
    return 0


def _stream_layout(stream: str | None, namespace: str) -> tuple[Any, Any] | None:
    """The NATS address and JetStream layout of ``--stream`` (checked now: the server answers, JetStream on)."""
    if stream is None:
        return None
    from hengqi.server.field import streaming
    from hengqi.supervision.streams import parse_stream_url

    address = parse_stream_url(stream)
    layout = streaming.run_sync(lambda: streaming.layout_for(address, namespace, None))
    return address, layout


def _start_stream_sync(address: Any, layout: Any, database: Any) -> None:
    """``hengqi field stream-sync`` for as long as this process serves (a daemon thread with its own event loop);
    with several workers the supervising process runs it once."""
    import threading

    from hengqi.server.field import streaming

    def sync() -> None:
        try:
            streaming.run_sync(lambda: streaming.stream_sync(address, layout, database, duration=None))
        except Exception as err:  # the thread's last word: the server goes on without the stream
            click.echo(f"hengqi: stream sync from {address.display()} stopped: {err}", err=True)

    threading.Thread(target=sync, name="hengqi-stream-sync", daemon=True).start()
    click.echo(f"hengqi: field alerts from {address.display()} stream {layout.stream}", err=True)


@click.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command("upgrade")
@store_options
def db_upgrade(data_dir: Path | None, database_url: str | None) -> int:
    """Create or upgrade the schema to the newest revision."""
    from hengqi.server.admin import open_database, revision

    database = open_database(_settings(data_dir, database_url), migrate=True)
    click.echo(f"schema at revision {revision(database).current}")
    database.dispose()
    return 0


@db.command("current")
@store_options
def db_current(data_dir: Path | None, database_url: str | None) -> int:
    """Show the schema's revision; exit 1 if it is behind the packaged head."""
    from hengqi.server.admin import open_database, revision

    database = open_database(_settings(data_dir, database_url))
    rev = revision(database)
    database.dispose()
    click.echo(f"current: {rev.current or '(none)'}\nhead:    {rev.head}")
    return 0 if rev.current == rev.head else 1


@click.group()
def users() -> None:
    """User accounts."""


@users.command("create-admin")
@store_options
@click.option("--username", required=True)
@click.option("--organisation", default="Default organisation", show_default=True)
@click.option("--full-name", default="")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def create_admin(
    *,
    data_dir: Path | None,
    database_url: str | None,
    username: str,
    organisation: str,
    full_name: str,
    password_stdin: bool,
) -> int:
    """Create an administrator (and its organisation if new); the store is migrated first."""
    from hengqi.server.admin import create_admin as make_admin
    from hengqi.server.admin import open_database

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise InputError("password", "is empty")
    database = open_database(_settings(data_dir, database_url), migrate=True)
    try:
        user = make_admin(
            database, username=username, password=password, organisation=organisation, full_name=full_name
        )
    finally:
        database.dispose()
    click.echo(f"admin {user.username!r} created (user {user.id}, organisation {user.organisation_id})")
    return 0


@click.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@store_options
@click.option(
    "--witness",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="also check the checkpoints of a witness file (from 'audit checkpoint --export')",
)
def audit_verify(data_dir: Path | None, database_url: str | None, witness: Path | None) -> int:
    """Check the audit trail: chain, MACs, signed checkpoints, bound record rows; exit 1 naming what failed."""
    from hengqi.server.admin import open_database, verify_audit
    from hengqi.server.errors import AuditChainError

    database = open_database(_settings(data_dir, database_url), make_key=False)
    try:
        report = verify_audit(database, witness=witness)
    except AuditChainError as err:
        where = f" at row {err.row_id}" if err.row_id else ""
        click.echo(f"audit trail BROKEN{where}: {err.reason}")
        return 1
    finally:
        database.dispose()
    click.echo(
        f"audit trail intact: {report.entries} entries ({report.macs} with MAC), head {report.head}; "
        f"{report.checkpoints} checkpoints"
        + (f", {report.witnessed} witnessed" if witness is not None else "")
        + f"; {report.bound_rows} record rows bound"
        + (f", {report.unbound_rows} last changed before revision 0113" if report.unbound_rows else "")
    )
    return 0


@audit.command("bind")
@store_options
def audit_bind(data_dir: Path | None, database_url: str | None) -> int:
    """Bind record rows last changed before revision 0113 to a new audit entry (the trail is verified first)."""
    from hengqi.server.admin import bind_records, open_database
    from hengqi.server.errors import AuditChainError

    database = open_database(_settings(data_dir, database_url))
    try:
        bound = bind_records(database)
    except AuditChainError as err:
        where = f" at row {err.row_id}" if err.row_id else ""
        click.echo(f"audit trail BROKEN{where}: {err.reason}; nothing bound")
        return 1
    finally:
        database.dispose()
    click.echo(f"{bound} record rows bound to the audit trail")
    return 0


@audit.command("checkpoint")
@store_options
@click.option(
    "--export",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write the public key and every checkpoint to this new file, for a witness to keep",
)
def audit_checkpoint(data_dir: Path | None, database_url: str | None, export: Path | None) -> int:
    """Sign the audit trail's current head into the checkpoint file (and export the checkpoints)."""
    from hengqi.server.admin import checkpoint_audit, open_database

    if export is not None and export.exists():
        raise InputError(str(export), "exists already; choose a new file name")
    database = open_database(_settings(data_dir, database_url))
    try:
        outcome = checkpoint_audit(database, export=export)
    finally:
        database.dispose()
    if outcome.written is not None:
        cp = outcome.written
        click.echo(f"checkpoint {cp.seq}: {cp.entries} entries, head {cp.head}, key {cp.key}")
    else:
        click.echo("the last checkpoint already covers the trail's head")
    if export is not None:
        click.echo(f"witness {export}: {outcome.exported} checkpoints; keep it apart from this machine")
    return 0


@click.command()
@store_options
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(data_dir: Path | None, database_url: str | None, file: Path) -> int:
    """Write the whole store (every table and stored file, with a manifest of hashes) to FILE."""
    from hengqi.server.admin import open_database
    from hengqi.server.backup import backup as make_backup
    from hengqi.server.files import FileStore

    if file.exists():
        raise InputError(str(file), "exists already; choose a new file name")
    settings = _settings(data_dir, database_url)
    database = open_database(settings)
    try:
        summary = make_backup(database, FileStore(settings.files_dir), file)
    finally:
        database.dispose()
    click.echo(f"backup {file}: revision {summary.revision}, {sum(summary.rows.values())} rows, {summary.files} files")
    click.echo(f"audit chain head {summary.audit_head} ({summary.rows.get('audit_log', 0)} entries): keep it apart")
    return 0


@click.command()
@store_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace a store that already holds data")
@click.option(
    "--rollback",
    is_flag=True,
    help="accept an archive older than the newest signed checkpoint (the later entries are lost; this is recorded)",
)
def restore(*, data_dir: Path | None, database_url: str | None, file: Path, force: bool, rollback: bool) -> int:
    """Restore the store from FILE (checked completely first, audit trail included; refuses to replace data
    without --force)."""
    from hengqi.server.admin import open_database
    from hengqi.server.backup import restore as load_backup
    from hengqi.server.files import FileStore

    settings = _settings(data_dir, database_url)
    database = open_database(settings, migrate=True)
    try:
        summary = load_backup(database, FileStore(settings.files_dir), file, force=force, rollback=rollback)
    finally:
        database.dispose()
    click.echo(f"restored {file}: {sum(summary.rows.values())} rows, {summary.files} files")
    return 0


COMMANDS = (serve, db, users, audit, backup, restore)
