"""Weight curves of weighbridge passages in Parquet partitions, queried with DuckDB.

A passage's samples (the total weight and each load cell's signal at ``rate_hz``) would make the event table
large; the ingest writes them to ``<data dir>/field/curves/date=YYYY-MM-DD/part-<uuid>.parquet`` (one file per
ingest batch and day, written to a temporary name and renamed, so a file is complete or absent) and keeps in the
event's body the number of samples and the file (``curve_file``).  Rows: device id, seq, event time, sample index,
time from the first sample (s), weight (kg) and the cells (kg, a list).  A file whose batch did not commit is never
referenced and goes with its day's partition under the retention rule (:meth:`CurveStore.apply_retention`).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from hengqi.errors import HengqiError, InputError

SCHEMA = pa.schema(
    [
        ("device_id", pa.string()),
        ("seq", pa.int64()),
        ("event_time", pa.timestamp("ms", tz="UTC")),
        ("sample", pa.int32()),
        ("t_s", pa.float64()),
        ("weight_kg", pa.float64()),
        ("cells_kg", pa.list_(pa.float64())),
    ]
)


@dataclass(frozen=True, slots=True)
class Curve:
    """One passage's samples as stored."""

    t_s: list[float]
    weight_kg: list[float]
    cells_kg: list[list[float]]


@dataclass(frozen=True, slots=True)
class PendingCurve:
    device_id: str
    seq: int
    event_time: datetime
    rate_hz: float
    curve_kg: list[float]
    cells_kg: list[list[float]]


class CurveStore:
    """The Parquet partitions under ``root / "curves"``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "curves"

    def write(self, curves: list[PendingCurve]) -> dict[tuple[str, int], str]:
        """Write the curves (one file per day); the file of each (device id, seq), relative to the store."""
        by_day: dict[date, list[PendingCurve]] = defaultdict(list)
        for curve in curves:
            by_day[curve.event_time.date()].append(curve)
        where: dict[tuple[str, int], str] = {}
        for day, items in sorted(by_day.items()):
            columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
            for c in items:
                n = len(c.curve_kg)
                columns["device_id"] += [c.device_id] * n
                columns["seq"] += [c.seq] * n
                columns["event_time"] += [c.event_time] * n
                columns["sample"] += list(range(n))
                columns["t_s"] += [i / c.rate_hz for i in range(n)]
                columns["weight_kg"] += c.curve_kg
                columns["cells_kg"] += [[cell[i] for cell in c.cells_kg] for i in range(n)]
            relative = f"date={day.isoformat()}/part-{uuid.uuid4().hex}.parquet"
            target = self.root / relative
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                temporary = target.with_suffix(".tmp")
                pq.write_table(pa.table(columns, schema=SCHEMA), temporary, compression="zstd")
                os.replace(temporary, target)
            except OSError as err:
                raise HengqiError(f"cannot write the curve store {self.root}: {err}") from err
            for c in items:
                where[(c.device_id, c.seq)] = relative
        return where

    def _file(self, relative: str) -> Path:
        path = (self.root / relative).resolve()
        if self.root.resolve() not in path.parents or path.suffix != ".parquet":
            raise InputError("curve_file", "outside the curve store")
        return path

    def curve(self, relative: str, device_id: str, seq: int) -> Curve | None:
        """The samples of one passage, or None where its file is gone (retention)."""
        path = self._file(relative)
        if not path.is_file():
            return None
        with duckdb.connect() as con:
            rows = con.execute(
                "SELECT t_s, weight_kg, cells_kg FROM read_parquet(?) WHERE device_id = ? AND seq = ? ORDER BY sample",
                [str(path), device_id, seq],
            ).fetchall()
        if not rows:
            return None
        width = len(rows[0][2] or [])
        return Curve(
            t_s=[float(r[0]) for r in rows],
            weight_kg=[float(r[1]) for r in rows],
            cells_kg=[[float(r[2][k]) for r in rows] for k in range(width)],
        )

    def query(self, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run DuckDB SQL over the view ``curves`` (every partition, with the ``date`` partition column)."""
        pattern = str(self.root / "*" / "*.parquet")
        with duckdb.connect() as con:
            if any(self.root.glob("date=*/*.parquet")):
                con.execute(f"CREATE VIEW curves AS SELECT * FROM read_parquet('{pattern}', hive_partitioning = true)")
            else:
                con.execute("CREATE VIEW curves AS SELECT NULL::VARCHAR AS device_id, NULL::BIGINT AS seq WHERE false")
            return [tuple(row) for row in con.execute(sql, parameters or []).fetchall()]

    def apply_retention(self, keep_days: int, today: date) -> list[str]:
        """Delete the day partitions older than ``keep_days`` before ``today``; the partitions deleted."""
        if keep_days < 1:
            raise InputError("--curves-days", f"must be at least 1, got {keep_days}")
        cutoff = today - timedelta(days=keep_days)
        removed = []
        for folder in sorted(self.root.glob("date=*")):
            try:
                day = date.fromisoformat(folder.name.removeprefix("date="))
            except ValueError:
                continue
            if day < cutoff:
                shutil.rmtree(folder)
                removed.append(folder.name)
        return removed
