"""The Parquet layout of the province tables: Hive-style folders by region and month.

::

    <root>/instruments/region=<code>/part-0.parquet
    <root>/verifications/region=<code>/month=<YYYY-MM>/part-0.parquet
    <root>/checks/region=<code>/month=<YYYY-MM>/part-0.parquet
    <root>/alerts/region=<code>/month=<YYYY-MM>/part-0.parquet

The partition columns (``region``, ``month``) are kept in the files as well, so a file read alone carries them.
Instruments are partitioned by region only: a region's verifications, checks and alerts join with one file of
instruments, which is what lets every query run per partition.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hengqi.errors import InputError
from hengqi.supervision.province import Province

#: The fact tables (partitioned by region and month) and the dimension table (by region).
FACT_TABLES = ("verifications", "checks", "alerts")
TABLES = ("instruments", *FACT_TABLES)


def _arrow(columns: dict[str, np.ndarray]) -> pa.Table:
    arrays = {}
    for name, col in columns.items():
        if isinstance(col, np.ma.MaskedArray):
            arrays[name] = pa.array(col.data, mask=np.ma.getmaskarray(col))
        else:
            arrays[name] = pa.array(col)
    return pa.table(arrays)


def write_province(province: Province, root: Path) -> dict[str, int]:
    """Write the province's tables under ``root`` (which must not hold a province yet); returns files per table."""
    if any((root / t).exists() for t in TABLES):
        raise InputError(str(root), "already holds province tables; choose an empty folder")
    written: dict[str, int] = {}
    for name, columns in province.tables().items():
        table = _arrow(columns)
        region = np.asarray(columns["region"])
        if name == "instruments":
            keys = region
        else:
            month = np.datetime_as_string(np.asarray(columns["date"], dtype="datetime64[M]"), unit="M")
            keys = np.char.add(np.char.add(region, "|"), month)
            table = table.append_column("month", pa.array(month))
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        uniques, starts = np.unique(sorted_keys, return_index=True)
        bounds = [*starts.tolist(), len(order)]
        for i, key in enumerate(uniques.tolist()):
            part = table.take(pa.array(order[bounds[i] : bounds[i + 1]]))
            folder = root / name
            for value, label in zip(str(key).split("|"), ("region", "month"), strict=False):
                folder = folder / f"{label}={value}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(part, folder / "part-0.parquet")
        written[name] = len(uniques)
    return written


@dataclass(frozen=True, slots=True)
class Partition:
    """The files one query reads: for each table, its files (the region's instruments with the facts)."""

    region: str
    month: str | None
    files: tuple[tuple[str, tuple[str, ...]], ...]

    def of(self, table: str) -> tuple[str, ...]:
        return dict(self.files).get(table, ())


def _value(folder: Path, label: str) -> str:
    prefix = f"{label}="
    if not folder.name.startswith(prefix):
        raise InputError(str(folder), f"not a {label}= partition folder")
    return folder.name[len(prefix) :]


def scan(root: Path) -> dict[str, dict[tuple[str, str | None], tuple[str, ...]]]:
    """The files of each table by ``(region, month)`` (``month`` ``None`` for instruments)."""
    if not (root / "instruments").is_dir():
        raise InputError(str(root), "holds no province tables (no instruments/ folder)")
    out: dict[str, dict[tuple[str, str | None], tuple[str, ...]]] = {}
    for table in TABLES:
        found: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        depth = "*/*.parquet" if table == "instruments" else "*/*/*.parquet"
        for path in sorted((root / table).glob(depth)):
            if table == "instruments":
                key: tuple[str, str | None] = (_value(path.parent, "region"), None)
            else:
                key = (_value(path.parent.parent, "region"), _value(path.parent, "month"))
            found[key].append(str(path))
        out[table] = {k: tuple(v) for k, v in sorted(found.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))}
    return out


def partitions(root: Path, grain: str) -> tuple[Partition, ...]:
    """The partitions a query is run on: ``"region"`` (each region's instruments and all its facts) or
    ``"region-month"`` (each region and month's facts with the region's instruments)."""
    files = scan(root)
    regions = sorted({r for r, _ in files["instruments"]})
    out = []
    for region in regions:
        dims = files["instruments"][(region, None)]
        if grain == "region":
            facts = {t: tuple(f for (r, _), fs in files[t].items() if r == region for f in fs) for t in FACT_TABLES}
            out.append(Partition(region, None, (("instruments", dims), *facts.items())))
        elif grain == "region-month":
            months = sorted({m for t in FACT_TABLES for (r, m) in files[t] if r == region and m is not None})
            for m in months:
                facts = {t: files[t].get((region, m), ()) for t in FACT_TABLES}
                out.append(Partition(region, m, (("instruments", dims), *facts.items())))
        else:
            raise InputError("grain", f"unknown partition grain {grain!r}")
    return tuple(out)


def everything(root: Path) -> Partition:
    """All files as one partition: what the embedded engine reads."""
    files = scan(root)
    return Partition("*", None, tuple((t, tuple(f for fs in files[t].values() for f in fs)) for t in TABLES))
