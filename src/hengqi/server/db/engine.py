"""Engines and sessions, made from settings when the app starts (never at import time).

SQLite runs in WAL mode with ``synchronous=FULL`` (an acknowledged commit survives a crash of the process or the
machine), foreign keys on, and a busy timeout.  Sessions that write begin with ``BEGIN IMMEDIATE`` on SQLite, so
that a writer takes the write lock before it reads what it will change (no lost updates, no stale-snapshot
failures); on PostgreSQL the audit chain takes a transaction-level advisory lock (:mod:`hengqi.server.audit`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from hengqi.server.db.direct import DIRECT_DIALECTS, DirectConnection, checked_out
from hengqi.server.db.parameters import refuse_nul_parameters

#: Key of the object a JSON column reads as when its stored text cannot be parsed (see :func:`tolerant_json_loads`).
UNREADABLE: Final = "$unreadable"


def tolerant_json_loads(text: str | bytes) -> Any:
    """Parse a JSON column; text that is not JSON (changed in the database behind the server's back) reads as
    ``{"$unreadable": reason}`` instead of failing every query that touches the row, so that readers can show
    that one row as damaged.

    >>> tolerant_json_loads('{"a": 1}'), tolerant_json_loads("{oops")
    ({'a': 1}, {'$unreadable': 'stored JSON cannot be parsed (Expecting property name enclosed in double quotes)'})
    """
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        reason = err.msg if isinstance(err, json.JSONDecodeError) else type(err).__name__
        return {UNREADABLE: f"stored JSON cannot be parsed ({reason})"}


#: Pooled SQLite connections per process (see :func:`make_engine`).
SQLITE_POOL_SIZE: Final = 40
#: Pooled PostgreSQL connections per process, and how many more may be opened for a burst (``HENGQI_DB_POOL_SIZE``
#: and ``HENGQI_DB_MAX_OVERFLOW``); with several worker processes each has its own pool.
#: 20 pooled: at 16 concurrent requests a pool of 10 closed the connections opened beyond it on their return and
#: opened new ones (a server process each) at the next burst, which doubled the PostgreSQL reads' p99 latency
#: (bench/README.md, issue 19).
POSTGRES_POOL_SIZE: Final = 20
POSTGRES_MAX_OVERFLOW: Final = 10
#: PostgreSQL: the reading pool's connections per process (``HENGQI_DB_READ_POOL_SIZE``), kept in autocommit
#: (:attr:`Database.autocommit`), and how many more it may open in a burst.  Its users hold a connection for one
#: or a few statements (about a millisecond): the token reads run in ``read_threads`` (4) threads, the browser
#: sessions' look-ups in the request threads.
POSTGRES_READ_POOL_SIZE: Final = 8
POSTGRES_READ_MAX_OVERFLOW: Final = 4


def make_engine(
    url: str, *, pool_size: int | None = None, max_overflow: int | None = None, autocommit: bool = False
) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``); creates a SQLite file's folder.

    ``autocommit`` (PostgreSQL): every connection of the pool is put in autocommit once, when it is opened, and
    stays so (see :attr:`Database.autocommit`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            # as many as the request threads that can hold one at once (anyio's default limiter: 40): a smaller
            # pool made every request past the 8th open a new connection (and its PRAGMAs) and close it again
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=8,
            json_deserializer=tolerant_json_loads,
        )
        _configure_sqlite(engine)
    else:
        engine = create_engine(
            url,
            pool_size=POSTGRES_POOL_SIZE if pool_size is None else pool_size,
            max_overflow=POSTGRES_MAX_OVERFLOW if max_overflow is None else max_overflow,
            json_deserializer=tolerant_json_loads,
            **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
        )
        _ping_when_idle(engine)
    _refuse_nul(engine)
    return engine


#: A pooled PostgreSQL connection unused for longer than this is checked (``SELECT 1``) before it is handed out.
IDLE_PING_S: Final = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle for more than :data:`IDLE_PING_S` seconds.

    SQLAlchemy's ``pool_pre_ping`` checks every checkout: a round trip to the server before every request's
    first query (a fifth of a token-authenticated read's round trips).  A connection that answered within the
    last seconds is alive unless the server went away since, and then the first query fails: SQLAlchemy sees the
    disconnect, drops every connection of the pool made before it, and the next request gets a new one.  A
    connection that sat idle (a server restart, a firewall's or the server's idle timeout) is pinged as before,
    and replaced if the ping fails (``DisconnectionError`` makes the pool try a fresh connection).
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["hq_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("hq_idle_since")
        if since is None or time.monotonic() - since <= IDLE_PING_S:
            return  # new, or used moments ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as err:  # any driver error: this connection is gone
            raise DisconnectionError("pooled connection failed its ping") from err
        if not alive:  # pragma: no cover - psycopg raises rather than answer False
            raise DisconnectionError("pooled connection failed its ping")


def _refuse_nul(engine: Engine) -> None:
    """Text with a NUL character (U+0000) is refused before it reaches the database, on every backend alike.

    PostgreSQL cannot store NUL in text (its driver raises, which used to answer 500); SQLite would store it, and
    a C string reader downstream would see the text cut short.  An :class:`~hengqi.errors.InputError` (HTTP 422,
    CLI exit 2) says so instead.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        refuse_nul_parameters(parameters)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # straight to the driver's connection: the same statement without SQLAlchemy's execution machinery,
        # events and result object (a fifth of a cached read's time when it went through exec_driver_sql)
        immediate = connection.get_execution_options().get("sqlite_begin") == "IMMEDIATE"
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN DEFERRED")


class Database:
    """The engine and the two session factories of one running app (reading, and writing)."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int | None = None,
        max_overflow: int | None = None,
        read_pool_size: int | None = None,
    ) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        self.dialect = self.engine.dialect.name
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.dialect == "sqlite" else self.engine
        #: copied into every session's ``info`` (e.g. the audit anchor, :func:`hengqi.server.audit.attach_anchor`)
        self.session_info: dict[str, Any] = {}
        self.reading = sessionmaker(self.engine, expire_on_commit=False, info=self.session_info)
        self.writing = sessionmaker(writer, expire_on_commit=False, info=self.session_info)
        #: PostgreSQL: each statement its own transaction, so no BEGIN before the first query and no ROLLBACK
        #: after the last (two of a one-query read's three round trips); READ COMMITTED gives each statement of a
        #: transaction its own snapshot anyway, so a reader of several statements sees nothing less consistent.
        #: A pool of its own whose connections are put in autocommit once, when opened: on the shared pool each
        #: checkout switched the connection to autocommit and each return switched it back (SQLAlchemy's
        #: isolation-level characteristic), a tenth of a token-authenticated item read's CPU (bench/README.md).
        #: SQLite: the engine as it is (BEGIN and ROLLBACK are calls into the library; SQLAlchemy's AUTOCOMMIT
        #: would, on the connection's return, undo the driver setting that lets :func:`_configure_sqlite` begin)
        self.autocommit = (
            self.engine
            if self.dialect == "sqlite"
            else make_engine(
                url,
                pool_size=POSTGRES_READ_POOL_SIZE if read_pool_size is None else read_pool_size,
                max_overflow=POSTGRES_READ_MAX_OVERFLOW,
                autocommit=True,
            )
        )

    def read_session(self) -> Session:
        return self.reading()

    def write_session(self) -> Session:
        return self.writing()

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A pooled connection for reads of one statement each (autocommit; see :attr:`autocommit`); never
        write through it."""
        with self.autocommit.connect() as connection:
            yield connection

    @property
    def direct_reads(self) -> bool:
        """Whether the per-request reads (the API token's lookup, the token-authenticated item read) run on the
        driver's connection (:data:`hengqi.server.db.direct.DIRECT_DIALECTS`: SQLite)."""
        return self.dialect in DIRECT_DIALECTS

    @contextmanager
    def direct_read(self) -> Iterator[DirectConnection]:
        """A pooled driver connection of :attr:`autocommit`'s pool for :class:`~hengqi.server.db.direct.DirectSelect`
        reads (one statement each; never write through it)."""
        with checked_out(self.autocommit) as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
        if self.autocommit is not self.engine:
            self.autocommit.dispose()
