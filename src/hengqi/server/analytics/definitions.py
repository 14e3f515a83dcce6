"""Each regulator statistic defined once: a DuckDB query of counts over a set of Parquet files, the sum of
those counts over partitions, and the finalisation of :mod:`hengqi.supervision.statistics` (intervals, funnel).

The counts are integers, so they add up to the same totals however the files are split: the embedded engine
runs each query once over every file, the Dask engine runs it on each partition (region, or region and month)
and adds the results, and both hand the totals to the same pure functions, which gives identical numbers.

Definitions (the same as the record functions of :mod:`hengqi.supervision.statistics`):

* ``pass_rate``: verifications with ``passed`` / verifications;
* ``overdue_rate``: in-service instruments with ``next_due`` before ``as_of`` or none / in-service instruments;
* ``alarms_per_1000``: alerts per 1 000 instruments (Garwood interval);
* ``alarms_per_check``: alerts per remote check-weighing;
* ``reverification_time``: days from each failed verification to the instrument's next passed one (failures
  with none are ``open``).

Grouping keys: ``region``, ``organisation``, ``site``, ``type``, ``class``, ``maker``, ``model``, ``age``
(bands 0-2, 2-5, 5-10, 10+ years at ``as_of``, as :func:`hengqi.supervision.statistics.age_band`) and, for
statistics of events, ``month`` (of the event).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import duckdb

from hengqi.errors import InputError
from hengqi.server.analytics.partitions import TABLES, Partition
from hengqi.supervision.statistics import (
    alarm_rates_from_counts,
    funnel,
    rates_from_counts,
    reverification_from_sums,
)

Key = tuple[object, ...]
Counts = dict[Key, tuple[int, ...]]

#: Age bands in whole years, the edges of :func:`hengqi.supervision.statistics.age_band`'s default.
AGE_EDGES: Final = (2, 5, 10)


def _age_sql(as_of: date) -> str:
    years = (
        f"({as_of.year} - year(i.installed) - CASE WHEN month(i.installed) > {as_of.month} OR "
        f"(month(i.installed) = {as_of.month} AND day(i.installed) > {as_of.day}) THEN 1 ELSE 0 END)"
    )
    bands, lo = [], 0
    for e in AGE_EDGES:
        bands.append(f"WHEN {years} < {e} THEN '{lo}-{e}'")
        lo = e
    return f"CASE WHEN i.installed IS NULL THEN 'unknown' {' '.join(bands)} ELSE '{AGE_EDGES[-1]}+' END"


_DIMENSION_KEYS: Final = {
    "region": "i.region",
    "organisation": "i.organisation",
    "site": "i.site",
    "type": "i.type",
    "class": 'i."class"',
    "maker": "i.maker",
    "model": "i.model",
}


@dataclass(frozen=True, slots=True)
class Statistic:
    """A statistic: the partition grain its counts add over, whether it has a ``month`` key, and its kind."""

    name: str
    grain: str  # "region" or "region-month"
    monthly: bool
    kind: str  # "proportion", "alarm" or "delay"
    title: str


STATISTICS: Final = {
    s.name: s
    for s in (
        Statistic("pass_rate", "region-month", True, "proportion", "verification pass rate"),
        Statistic("overdue_rate", "region", False, "proportion", "verification overdue rate"),
        Statistic("alarms_per_1000", "region", False, "alarm", "alarms per 1 000 instruments"),
        Statistic("alarms_per_check", "region-month", True, "alarm", "alarms per remote check"),
        Statistic("reverification_time", "region", False, "delay", "time to re-verify after a failure"),
    )
}
KEYS: Final = (*_DIMENSION_KEYS, "age", "month")


@dataclass(frozen=True, slots=True)
class Spec:
    """One report: a statistic grouped by some keys (at most four)."""

    statistic: str
    group_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        stat = STATISTICS.get(self.statistic)
        if stat is None:
            raise InputError("statistic", f"unknown statistic {self.statistic!r}; use {', '.join(STATISTICS)}")
        unknown = [k for k in self.group_by if k not in KEYS]
        if unknown:
            raise InputError("group_by", f"unknown key {unknown[0]!r}; use {', '.join(KEYS)}")
        if len(set(self.group_by)) != len(self.group_by) or len(self.group_by) > 4:
            raise InputError("group_by", "at most four keys, each once")
        if "month" in self.group_by and not stat.monthly:
            raise InputError("group_by", f"'month' does not apply to {self.statistic}")

    @property
    def label(self) -> str:
        return f"{self.statistic}:{','.join(self.group_by)}"


_STANDARD: Final[tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]] = (
    (
        "pass_rate",
        ((), ("region",), ("region", "month"), ("site",), ("type",), ("class",), ("maker",), ("model",), ("age",)),
    ),
    ("overdue_rate", ((), ("region",), ("organisation",), ("site",), ("maker",), ("age",))),
    ("alarms_per_1000", ((), ("region",), ("type",), ("maker",), ("age",))),
    ("alarms_per_check", ((), ("region",), ("region", "month"))),
    ("reverification_time", ((), ("region",), ("maker",))),
)
#: The reports recomputed for the regulator's dashboard ("every statistic").
STANDARD_REPORTS: Final = tuple(Spec(s, g) for s, groups in _STANDARD for g in groups)


def _select(keys: Sequence[str], as_of: date, fact: str = "f") -> str:
    cols = []
    for n, k in enumerate(keys):
        if k == "age":
            expr = _age_sql(as_of)
        elif k == "month":
            expr = f"strftime({fact}.date, '%Y-%m')"
        else:
            expr = _DIMENSION_KEYS[k]
        cols.append(f"{expr} AS k{n}")
    return "".join(c + ", " for c in cols)


def _group(keys: Sequence[str]) -> str:
    return f" GROUP BY {', '.join(f'k{n}' for n in range(len(keys)))}" if keys else ""


def _scope(organisations: frozenset[int] | None) -> str:
    if organisations is None:
        return "TRUE"
    if not organisations:
        return "FALSE"
    return f"i.organisation IN ({', '.join(str(int(o)) for o in sorted(organisations))})"


def _queries(spec: Spec, as_of: date, scope: str) -> list[tuple[str, tuple[str, ...]]]:
    """The SQL of a spec's counts, each with the tables it needs; several queries are merged column-wise."""
    keys = spec.group_by
    join = "JOIN instruments i ON f.instrument_id = i.instrument_id"
    sel, grp = _select(keys, as_of), _group(keys)
    if spec.statistic == "pass_rate":
        return [
            (
                f"SELECT {sel}count_if(f.passed)::BIGINT, count(*)::BIGINT FROM verifications f {join} "
                f"WHERE {scope}{grp}",
                ("verifications",),
            )
        ]
    if spec.statistic == "overdue_rate":
        due = f"i.next_due IS NULL OR i.next_due < DATE '{as_of.isoformat()}'"
        return [
            (
                f"SELECT {sel}count_if({due})::BIGINT, count(*)::BIGINT FROM instruments i "
                f"WHERE i.status = 'in-service' AND {scope}{grp}",
                ("instruments",),
            )
        ]
    if spec.statistic == "alarms_per_1000":
        return [
            (f"SELECT {sel}count(*)::BIGINT FROM alerts f {join} WHERE {scope}{grp}", ("alerts",)),
            (f"SELECT {sel}count(*)::BIGINT FROM instruments i WHERE {scope}{grp}", ("instruments",)),
        ]
    if spec.statistic == "alarms_per_check":
        return [
            (f"SELECT {sel}count(*)::BIGINT FROM alerts f {join} WHERE {scope}{grp}", ("alerts",)),
            (f"SELECT {sel}sum(f.checks)::BIGINT FROM checks f {join} WHERE {scope}{grp}", ("checks",)),
        ]
    # reverification_time: each failure with the first later pass of the same instrument (same order as the
    # record function: by date, a failure before a pass on the same day)
    outer = ", ".join(f"k{n}" for n in range(len(keys)))
    return [
        (
            f"WITH v AS (SELECT {sel}f.passed, f.date, min(CASE WHEN f.passed THEN f.date END) OVER ("
            "PARTITION BY f.instrument_id ORDER BY f.date, f.passed "
            "ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_pass "
            f"FROM verifications f {join} WHERE {scope}) "
            f"SELECT {outer + ', ' if keys else ''}"
            "coalesce(sum(date_diff('day', date, next_pass)), 0)::BIGINT, count(next_pass)::BIGINT, "
            f"count_if(next_pass IS NULL)::BIGINT FROM v WHERE NOT passed{grp}",
            ("verifications",),
        )
    ]


def _open(partition: Partition, threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    for table in TABLES:
        files = partition.of(table)
        if files:
            listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{listing}], hive_partitioning = false)")
    return con


def partial_counts(
    partition: Partition,
    specs: Sequence[Spec],
    as_of: date,
    organisations: frozenset[int] | None,
    threads: int | None = 1,
) -> dict[Spec, Counts]:
    """The counts of each spec over one partition's files (one task of the Dask engine, on one DuckDB thread:
    Dask spreads the partitions over the cores; the whole query of the embedded engine, ``threads=None``: DuckDB
    uses every core): ``{group key: (count, ...)}``, rows that are all zero left out."""
    scope = _scope(organisations)
    out: dict[Spec, Counts] = {}
    with _open(partition, threads) as con:
        for spec in specs:
            queries = _queries(spec, as_of, scope)
            width = len(spec.group_by)
            zeros = [0] * len(queries)
            merged: dict[Key, list[int]] = defaultdict(zeros.copy)
            for col, (sql, needs) in enumerate(queries):
                if not all(partition.of(t) for t in needs):
                    continue
                for row in con.execute(sql).fetchall():
                    values = row[width:]
                    if len(queries) == 1:
                        merged[tuple(row[:width])] = [int(v or 0) for v in values]
                    else:
                        merged[tuple(row[:width])][col] = int(values[0] or 0)
            out[spec] = {k: tuple(v) for k, v in merged.items() if any(v)}
    return out


def combine(partials: Iterable[Mapping[Spec, Counts]]) -> dict[Spec, Counts]:
    """Add the counts of several partitions, key by key."""
    total: dict[Spec, dict[Key, list[int]]] = {}
    for part in partials:
        for spec, counts in part.items():
            acc = total.setdefault(spec, {})
            for key, values in counts.items():
                cur = acc.setdefault(key, [0] * len(values))
                for n, v in enumerate(values):
                    cur[n] += v
    return {spec: {k: tuple(v) for k, v in acc.items()} for spec, acc in total.items()}


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, int | str) else str(value)


def rate_row(group: Any, point: Any = None) -> dict[str, Any]:
    """One rate group (or the overall rate) as a report row: key, counts, interval and funnel flag."""
    i = group.interval
    return {
        "key": {name: _plain(v) for name, v in group.key},
        "count": i.successes,
        "total": i.trials,
        "rate": i.estimate,
        "lower": i.lower,
        "upper": i.upper,
        "funnel_flag": None if point is None else point.flag,
        "funnel_level": None if point is None else point.outside_level,
    }


def finalise(
    spec: Spec,
    counts: Mapping[Key, tuple[int, ...]],
    overall: Mapping[Key, tuple[int, ...]] | None = None,
    *,
    method: str = "wilson",
    confidence: float = 0.95,
) -> dict[str, Any]:
    """The report of one spec from its summed counts (``overall``: the counts of the same statistic ungrouped,
    the funnel's target), in the JSON form of the statistics API."""
    stat = STATISTICS[spec.statistic]
    names = list(spec.group_by)
    report: dict[str, Any] = {"statistic": stat.title, "name": spec.statistic, "group_by": names}
    if stat.kind == "proportion":
        groups = rates_from_counts({k: v[:2] for k, v in counts.items()}, names, method=method, confidence=confidence)
        overall_rates = rates_from_counts(dict(overall or {}), [], method=method, confidence=confidence)
        points: tuple[Any, ...] = (None,) * len(groups)
        if names and groups and overall_rates:
            points = funnel(groups, target=overall_rates[0].rate)[1]
        report |= {
            "method": method,
            "confidence": confidence,
            "groups": [rate_row(g, p) for g, p in zip(groups, points, strict=True)],
        }
        return report
    if stat.kind == "alarm":
        per = 1000.0 if spec.statistic == "alarms_per_1000" else 1.0
        rates = alarm_rates_from_counts(
            {k: v[0] for k, v in counts.items()},
            {k: float(v[1]) for k, v in counts.items()},
            names,
            per=per,
            confidence=confidence,
        )
        report |= {
            "confidence": confidence,
            "per": per,
            "groups": [
                {
                    "key": {n: _plain(v) for n, v in key},
                    "events": r.events,
                    "exposure": r.exposure,
                    "rate": r.rate,
                    "lower": r.lower,
                    "upper": r.upper,
                }
                for key, r in rates
            ],
        }
        return report
    rows = reverification_from_sums(counts, names)
    report["groups"] = [
        {"key": {n: _plain(v) for n, v in r.key}, "mean_days": r.mean_days, "resolved": r.resolved, "open": r.open}
        for r in rows
    ]
    return report


def needed(specs: Sequence[Spec]) -> tuple[Spec, ...]:
    """The specs with, for each grouped proportion, its ungrouped twin (the funnel's target)."""
    out = list(dict.fromkeys(specs))
    for s in specs:
        twin = Spec(s.statistic)
        if STATISTICS[s.statistic].kind == "proportion" and s.group_by and twin not in out:
            out.append(twin)
    return tuple(out)


def reports(
    specs: Sequence[Spec], totals: Mapping[Spec, Counts], *, method: str = "wilson", confidence: float = 0.95
) -> list[dict[str, Any]]:
    """The finished reports of ``specs`` from the combined counts of :func:`needed` ``(specs)``."""
    return [
        finalise(s, totals.get(s, {}), totals.get(Spec(s.statistic), {}), method=method, confidence=confidence)
        for s in specs
    ]
