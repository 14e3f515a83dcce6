"""A bounded store-and-forward queue of telemetry events in a local SQLite file.

Events get their ``seq`` here (persisted, so it keeps growing across restarts) and stay until the broker has
acknowledged them (:meth:`ForwardQueue.remove`). An acknowledged event is kept a little longer, apart from the queue
(:data:`KEEP_ACKNOWLEDGED_S`): a broker killed outright (SIGKILL, power loss) forgets what it acknowledged since its
last save (Mosquitto saves every ``autosave_interval`` seconds), so after a lost connection the agent sends again
what the broker acknowledged shortly before (:meth:`ForwardQueue.requeue_acknowledged_since`); the platform drops
what it already has (deduplication on instrument and seq). The queue holds at most ``capacity`` events: when full,
the oldest is dropped (counted in ``dropped``), so the newest are kept and the platform sees the gap in ``seq``. The
file is written with ``synchronous=FULL``: an event :meth:`append` returned survives a crash.
"""

from __future__ import annotations

import sqlite3
import threading
import time as clock
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from hengqi.errors import HengqiError, InputError
from hengqi.supervision.telemetry import Body, TelemetryEvent

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (seq INTEGER PRIMARY KEY, event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS acknowledged (seq INTEGER PRIMARY KEY, event TEXT NOT NULL, at REAL NOT NULL);
"""
#: Seconds an acknowledged event is kept for sending again after a lost connection: well above Mosquitto's
#: ``autosave_interval`` (this project's configurations: 1 s; Mosquitto's default: 1 800 s, which a platform
#: broker must lower) plus the time to notice a dead broker (about 1.5 keepalives; the agent's keepalive is 10 s).
KEEP_ACKNOWLEDGED_S: Final = 60.0


class ForwardQueue:
    """The queue in ``path`` for one instrument (see the module docstring)."""

    def __init__(self, path: Path | str, instrument: str, *, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise InputError("capacity", f"must be at least 1, got {capacity}")
        self.path = Path(path)
        self.instrument = instrument
        self.capacity = capacity
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as err:
            raise HengqiError(f"cannot open the queue {self.path}: {err}") from err
        owner = self._get("instrument")
        if owner is None:
            self._put("instrument", instrument)
        elif owner != instrument:
            raise InputError("--queue", f"{self.path} is the queue of {owner!r}, not of {instrument!r}")

    def _get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _put(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value)
        )

    def _counter(self, key: str) -> int:
        return int(self._get(key) or 0)

    def _set(self, key: str, value: int) -> None:
        self._put(key, str(value))

    def append(self, time: datetime, body: Body) -> TelemetryEvent:
        """Give the event the next seq and store it (dropping the oldest when full).

        The time is cut to whole milliseconds, the resolution of Sparkplug B timestamps, so that the event the
        platform decodes is the event queued here (same canonical JSON, same digest).
        """
        time = time.replace(microsecond=time.microsecond // 1000 * 1000)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = self._counter("next_seq")
                event = TelemetryEvent(instrument=self.instrument, seq=seq, time=time, body=body)
                self._db.execute("INSERT INTO queue VALUES (?, ?)", (seq, event.model_dump_json()))
                self._set("next_seq", seq + 1)
                over = self._depth() - self.capacity
                if over > 0:
                    self._db.execute(
                        "DELETE FROM queue WHERE seq IN (SELECT seq FROM queue ORDER BY seq LIMIT ?)", (over,)
                    )
                    self._set("dropped", self._counter("dropped") + over)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return event

    def _depth(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM queue").fetchone()[0])

    def depth(self) -> int:
        """Events waiting for the broker's acknowledgement."""
        with self._lock:
            return self._depth()

    @property
    def dropped(self) -> int:
        """Events dropped because the queue was full (since it was made)."""
        with self._lock:
            return self._counter("dropped")

    def peek(self, limit: int, *, after: int | None = None) -> list[TelemetryEvent]:
        """Up to ``limit`` events, oldest first, with seq above ``after`` (all when None)."""
        with self._lock:
            rows: list[Any] = self._db.execute(
                "SELECT event FROM queue WHERE seq > ? ORDER BY seq LIMIT ?", (-1 if after is None else after, limit)
            ).fetchall()
        return [TelemetryEvent.model_validate_json(row[0]) for row in rows]

    def remove(self, seqs: list[int], *, now: float | None = None) -> None:
        """Take acknowledged events out of the queue; they are kept apart for :data:`KEEP_ACKNOWLEDGED_S`."""
        at = clock.time() if now is None else now
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO acknowledged SELECT seq, event, ? FROM queue WHERE seq = ?",
                    [(at, s) for s in seqs],
                )
                self._db.executemany("DELETE FROM queue WHERE seq = ?", [(s,) for s in seqs])
                self._db.execute("DELETE FROM acknowledged WHERE at < ?", (at - KEEP_ACKNOWLEDGED_S,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def requeue_acknowledged_since(self, since: float) -> int:
        """Put back into the queue the events acknowledged at or after ``since`` (seconds since the epoch); the
        number put back.  Called on a new connection after a lost one (see the module docstring)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO queue SELECT seq, event FROM acknowledged WHERE at >= ?", (since,)
                )
                self._db.execute("DELETE FROM acknowledged WHERE at >= ?", (since,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return int(cursor.rowcount)

    def next_bd_seq(self) -> int:
        """The next Sparkplug ``bdSeq`` (0-255, persisted, one per MQTT connection)."""
        with self._lock:
            value = self._counter("bd_seq")
            self._set("bd_seq", (value + 1) % 256)
            return value

    def close(self) -> None:
        with self._lock:
            self._db.close()
