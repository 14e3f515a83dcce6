"""A synthetic province for the regulator statistics: instruments, a year of verifications, remote
check-weighings and alerts, made column-wise with numpy so that a million instruments take seconds.

The tables are plain columns (numpy arrays), written as Parquet partitions by region and month by
:mod:`hengqi.server.analytics.partitions`.  Every rate, share and delay chosen here (pass probability by maker
and age, share of connected instruments, alarms per month) is this generator's assumption, picked to give the
statistics something to find; none is a statistic of a real province.  The same seed gives the same data.

Tables and columns:

* ``instruments``: ``instrument_id``, ``region``, ``organisation``, ``site``, ``type``, ``class``, ``maker``,
  ``model``, ``installed`` (date), ``next_due`` (date or missing: never verified), ``status``;
* ``verifications``: ``instrument_id``, ``region``, ``date``, ``passed``;
* ``checks`` (remote check-weighings, counted per instrument and month): ``instrument_id``, ``region``,
  ``date`` (first day of the month), ``checks``;
* ``alerts``: ``instrument_id``, ``region``, ``date``, ``kind``.

>>> p = synthetic_province(200, seed=1)
>>> len(p.instruments["instrument_id"]), p.seed
(200, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from hengqi.errors import InputError

__all__ = ["ALERT_KINDS", "MAKERS", "REGIONS", "TYPES", "Province", "synthetic_province"]

#: Region codes (labels only; modelled on the six-digit administrative codes).
REGIONS = tuple(f"61{i:02d}00" for i in range(1, 13))
#: Instrument types and their shares.
TYPES = (("retail", 0.7), ("platform", 0.2), ("weighbridge", 0.1))
CLASSES = (("III", 0.85), ("II", 0.05), ("IIII", 0.10))
#: Makers with this generator's assumed failure probability at a verification (before ageing).
MAKERS = (("Acme", 0.03), ("Baixiang", 0.05), ("Changfeng", 0.04), ("Dahua", 0.06), ("Eastern", 0.08),
          ("Fuda", 0.05), ("Guangming", 0.12), ("Hengtai", 0.04))  # fmt: skip
ALERT_KINDS = ("seal-broken", "counter-reset", "offline", "drift", "software-id")
_INSTRUMENTS_PER_SITE = 20
_INSTRUMENTS_PER_ORGANISATION = 50_000


@dataclass(frozen=True, slots=True)
class Province:
    """The generated tables (column name -> numpy array), the year they cover, the date the statistics are taken
    (``as_of``: the day after the year) and the seed."""

    instruments: dict[str, np.ndarray]
    verifications: dict[str, np.ndarray]
    checks: dict[str, np.ndarray]
    alerts: dict[str, np.ndarray]
    year: int
    as_of: date
    seed: int

    def tables(self) -> dict[str, dict[str, np.ndarray]]:
        return {
            "instruments": self.instruments,
            "verifications": self.verifications,
            "checks": self.checks,
            "alerts": self.alerts,
        }


def _choice(rng: np.random.Generator, options: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    names = np.array([o[0] for o in options])
    p = np.array([o[1] for o in options])
    return names[rng.choice(len(options), size=n, p=p / p.sum())]


def synthetic_province(n: int, *, year: int = 2026, seed: int = 15, regions: int = len(REGIONS)) -> Province:
    """``n`` instruments in the first ``regions`` of :data:`REGIONS` with one year of verifications,
    check-weighings and alerts."""
    if n < 1:
        raise InputError("n", f"need at least one instrument, got {n}")
    if not 1 <= regions <= len(REGIONS):
        raise InputError("regions", f"need 1 to {len(REGIONS)} regions, got {regions}")
    rng = np.random.default_rng(seed)
    start = np.datetime64(f"{year}-01-01", "D")
    days = int((np.datetime64(f"{year + 1}-01-01", "D") - start).astype(np.int64))
    ids = np.arange(1, n + 1, dtype=np.int64)
    region_ix = rng.integers(0, regions, size=n)
    region = np.array(REGIONS)[region_ix]
    # sites and organisations lie inside one region: a block of numbers per region
    sites_per_region = max(1, n // (_INSTRUMENTS_PER_SITE * regions))
    site = (region_ix * sites_per_region + rng.integers(0, sites_per_region, size=n) + 1).astype(np.int64)
    orgs_per_region = max(1, n // (_INSTRUMENTS_PER_ORGANISATION * regions))
    organisation = (region_ix * orgs_per_region + rng.integers(0, orgs_per_region, size=n) + 1).astype(np.int64)
    maker_ix = rng.integers(0, len(MAKERS), size=n)
    maker = np.array([m[0] for m in MAKERS])[maker_ix]
    model = np.char.add(np.char.add(maker, "-"), rng.integers(1, 4, size=n).astype(str))
    age_days = rng.integers(0, 15 * 365, size=n)
    installed = start - age_days.astype("timedelta64[D]")
    status = np.where(rng.random(n) < 0.97, "in-service", "withdrawn")

    # one periodic verification in the year for most instruments; a failure is re-verified after some days
    verified = rng.random(n) < 0.93
    first = start + rng.integers(0, days, size=n).astype("timedelta64[D]")
    p_fail = np.array([m[1] for m in MAKERS])[maker_ix] * (1 + age_days / (10 * 365))
    failed = verified & (rng.random(n) < p_fail)
    redo = failed & (rng.random(n) < 0.85)
    second = first + np.ceil(rng.exponential(20.0, size=n)).astype("timedelta64[D]")
    redo &= second < start + np.timedelta64(days, "D")
    v_ids = np.concatenate([ids[verified], ids[redo]])
    v_date = np.concatenate([first[verified], second[redo]])
    second_passed = rng.random(n) < 0.97
    v_passed = np.concatenate([~failed[verified], second_passed[redo]])
    v_region = np.concatenate([region[verified], region[redo]])
    # due a year after the last pass; a failure not passed again is due at once; never verified: due before
    last_pass = np.where(redo, second, first)
    passed_last = np.where(redo, second_passed, ~failed)
    next_due = np.where(passed_last, last_pass + np.timedelta64(365, "D"), last_pass)
    next_due = np.where(verified, next_due, start - rng.integers(1, 400, size=n).astype("timedelta64[D]"))
    never = rng.random(n) < 0.01
    next_due_col = np.ma.masked_array(next_due, mask=never & ~verified)

    # remote check-weighings: connected instruments report a few per month
    connected = rng.random(n) < 0.5
    months = np.arange(12)
    c_counts = rng.poisson(4.0, size=(int(connected.sum()), 12))
    c_ids = np.repeat(ids[connected], 12)
    c_month = np.tile(months, int(connected.sum()))
    keep = c_counts.ravel() > 0
    month_start = np.array([np.datetime64(f"{year}-{m + 1:02d}-01", "D") for m in months])

    # alerts: rarer on instruments that passed, more on connected ones (they can report them)
    a_rate = np.where(connected, 0.02, 0.004) * np.where(failed, 3.0, 1.0)
    a_n = rng.poisson(a_rate)
    a_ids = np.repeat(ids, a_n)
    a_date = start + rng.integers(0, days, size=a_ids.size).astype("timedelta64[D]")
    return Province(
        instruments={
            "instrument_id": ids,
            "region": region,
            "organisation": organisation,
            "site": site,
            "type": _choice(rng, TYPES, n),
            "class": _choice(rng, CLASSES, n),
            "maker": maker,
            "model": model,
            "installed": installed,
            "next_due": next_due_col,
            "status": status,
        },
        verifications={"instrument_id": v_ids, "region": v_region, "date": v_date, "passed": v_passed},
        checks={
            "instrument_id": c_ids[keep],
            "region": region[c_ids[keep] - 1],
            "date": month_start[c_month[keep]],
            "checks": c_counts.ravel()[keep].astype(np.int32),
        },
        alerts={
            "instrument_id": a_ids,
            "region": region[a_ids - 1],
            "date": a_date,
            "kind": np.array(ALERT_KINDS)[rng.integers(0, len(ALERT_KINDS), size=a_ids.size)],
        },
        year=year,
        as_of=date(year + 1, 1, 1),
        seed=seed,
    )
