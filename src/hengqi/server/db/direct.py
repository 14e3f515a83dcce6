"""Fixed SELECTs run on the driver's connection directly, for the reads made on every request (issue 19).

A token-authenticated item read is one query (:func:`hengqi.server.services.accounts.principal_and_row`).  Run
through SQLAlchemy's ``Connection.execute`` it cost about 280 µs of CPU on PostgreSQL, of which the query's own
work in psycopg was about 80 (one thread, 3 000 reads, measured with the gate's tests running beside): the rest
was the execution context, its events, the result object, the cursor description read on each call.  It is used
on SQLite (:data:`DIRECT_DIALECTS`), where the read runs in place on the event loop.  :class:`DirectSelect`
keeps what of that a fixed statement needs and drops the rest:

* the statement is compiled once per dialect (SQLAlchemy's compiler: the same SQL text as ``execute`` sends);
* the values read are converted by the same result processors SQLAlchemy would apply (chosen, as SQLAlchemy
  chooses them, from the column's type and the driver's type code in the cursor description, once per statement),
  so a timestamp comes back aware, a JSON column parsed, a NUMERIC a ``Decimal``;
* a parameter holding a NUL character is refused as every statement's is
  (:func:`hengqi.server.db.parameters.refuse_nul_parameters`);
* a driver error is raised as SQLAlchemy raises it (``sqlalchemy.exc.DBAPIError`` and its subclasses), and a
  connection that the error shows to be gone is discarded from the pool rather than handed out again.

Rows are named tuples whose fields are the statement's column keys (the same names as SQLAlchemy's rows).  Only
reads go through here, on the pooled connection of :meth:`hengqi.server.db.engine.Database.direct_read`
(autocommit on PostgreSQL, and no ``BEGIN`` on SQLite: a single SELECT is its own transaction on both) or on the
driver connection under a SQLAlchemy connection (:meth:`DirectConnection.of`: the API token's lookup of every
other token-authenticated request, in that connection's transaction if one has begun).
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import Connection, Engine, Select
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, StatementError

from hengqi.server.db.parameters import refuse_nul_parameters

#: The backends whose per-request reads go through here (:attr:`hengqi.server.db.engine.Database.direct_reads`).
#: SQLite only: on PostgreSQL, eight-second ``wrk`` runs of the token-authenticated item read (2 cores, two worker
#: processes) had a p99 over 100 ms in 12 of 63 runs with direct reads, against 2 of 30 through
#: ``Connection.execute``; in those runs single queries took 0.3 to 2.7 s (the PostgreSQL backends active, no wait
#: event).  The cause is not found, so PostgreSQL keeps SQLAlchemy's path (``bench/README.md``, eighth round).
DIRECT_DIALECTS: Final = frozenset({"sqlite"})

#: A converter of one value (SQLAlchemy's bind or result processor), or ``None`` where the value passes as it is.
Processor = Callable[[Any], Any] | None


class DirectSelect:
    """A Core ``SELECT`` run by :meth:`rows` on a pooled driver connection (see the module's text)."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        columns = list(statement.selected_columns)
        self._names = tuple(statement.selected_columns.keys())
        if len(set(self._names)) != len(self._names):
            raise ValueError(f"two result columns share a name: {self._names}")
        self._statement = statement
        self._types = [column.type for column in columns]
        self._row: Any = namedtuple("DirectRow", self._names)  # type: ignore[misc]
        self._lock = threading.Lock()
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Processor]]] = {}
        self._processors: dict[tuple[str, tuple[Any, ...]], list[Processor]] = {}

    def _sql(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Processor]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            with self._lock:
                compiled = self._statement.compile(dialect=dialect)
                order = tuple(compiled.positiontup or ()) if dialect.positional else None
                binds: dict[str, Processor] = {
                    name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                    for name, bind in compiled.binds.items()
                }
                found = self._compiled[dialect.name] = (compiled.string, order, binds)
        return found

    def _converters(self, dialect: Dialect, description: Any) -> list[Processor]:
        codes = tuple(entry[1] for entry in description)
        key = (dialect.name, codes)
        found = self._processors.get(key)
        if found is None:
            found = self._processors[key] = [
                kind.dialect_impl(dialect).result_processor(dialect, code)
                for kind, code in zip(self._types, codes, strict=True)
            ]
        return found

    def rows(self, connection: DirectConnection, params: Mapping[str, Any]) -> list[Any]:
        """Every row of the statement with ``params``, on ``connection`` (from :func:`checked_out`)."""
        dialect = connection.engine.dialect
        sql, order, binds = self._sql(dialect)
        values = {name: _converted(binds.get(name), value) for name, value in params.items()}
        refuse_nul_parameters(values)
        bound: Any = tuple(values[name] for name in order) if order is not None else values
        cursor = connection.driver.cursor()
        try:
            cursor.execute(sql, bound)
            raw = cursor.fetchall()
            converters = self._converters(dialect, cursor.description)
        except dialect.loaded_dbapi.Error as err:
            raise connection.failed(cursor, sql, bound, err) from err
        finally:
            cursor.close()
        make = self._row._make
        return [
            make([value if convert is None else convert(value) for convert, value in zip(converters, row, strict=True)])
            for row in raw
        ]

    def one_or_none(self, connection: DirectConnection, params: Mapping[str, Any]) -> Any | None:
        """The one row of the statement, or ``None``; more than one is an error (as ``Result.one_or_none``)."""
        found = self.rows(connection, params)
        if len(found) > 1:
            raise MultipleResultsFound(f"{len(found)} rows where at most one was expected")
        return found[0] if found else None


def _converted(convert: Processor, value: Any) -> Any:
    return value if convert is None else convert(value)


class DirectConnection:
    """A pooled driver connection lent by :func:`checked_out`, or the one under a SQLAlchemy connection
    (:meth:`of`)."""

    def __init__(self, engine: Engine, driver: Any, *, on_gone: Callable[[], object] | None = None) -> None:
        self.engine = engine
        self.driver = driver
        self.gone = False
        self._on_gone = on_gone

    @classmethod
    def of(cls, connection: Connection) -> DirectConnection:
        """The driver connection of ``connection`` (checked out already, in its transaction if one has begun);
        one that a direct read finds gone is invalidated, as SQLAlchemy invalidates it after such an error."""
        return cls(connection.engine, connection.connection.driver_connection, on_gone=connection.invalidate)

    def failed(self, cursor: Any, sql: str, params: Any, err: Any) -> StatementError:
        """``err`` as SQLAlchemy would raise it; a connection it shows to be gone is discarded (on its return to
        the pool, or now for a SQLAlchemy connection's)."""
        dialect = self.engine.dialect
        self.gone = self.gone or bool(dialect.is_disconnect(err, self.driver, cursor))
        if self.gone and self._on_gone is not None:
            self._on_gone()
        wrapped: StatementError = DBAPIError.instance(
            sql, params, err, dialect.loaded_dbapi.Error, connection_invalidated=self.gone
        )
        return wrapped


@contextmanager
def checked_out(engine: Engine) -> Iterator[DirectConnection]:
    """A driver connection from ``engine``'s pool (with the pool's checkout checks, e.g. the idle ping), returned
    after use, or discarded when a direct read found it gone."""
    fairy = engine.raw_connection()
    connection = DirectConnection(engine, fairy.driver_connection)
    try:
        yield connection
    finally:
        if connection.gone:
            fairy.invalidate()
        else:
            fairy.close()
