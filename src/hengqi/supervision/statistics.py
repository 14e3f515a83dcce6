"""Fleet statistics for a market regulator: pass rates, overdue rates, alarm rates, time to re-verify, with
confidence intervals and funnel-plot limits.  Pure functions over plain records (mappings or objects with
attributes), so the same definitions can be run by an embedded or a distributed engine.

Sources:

* Wilson score interval: E. B. Wilson, "Probable inference, the law of succession, and statistical
  inference", J. Am. Stat. Assoc. 22 (1927) 209-212.
* Clopper-Pearson ("exact") interval: C. J. Clopper, E. S. Pearson, "The use of confidence or fiducial limits
  illustrated in the case of the binomial", Biometrika 26 (1934) 404-413; by beta quantiles.
* Poisson interval for counts of alarms: F. Garwood, "Fiducial limits for the Poisson distribution",
  Biometrika 28 (1936) 437-442; by chi-square quantiles.
* Funnel plots: D. J. Spiegelhalter, "Funnel plots for comparing institutional performance", Stat. Med. 24
  (2005) 1185-1202: exact binomial control limits around the overall rate with the interpolation of its
  appendix (SECONDARY: the formula was taken from summaries of the paper, the paper itself was not read here).

>>> wilson_interval(8, 10).lower > 0.49
True
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from scipy.stats import beta, binom, chi2, norm

from hengqi.errors import InputError

__all__ = [
    "FunnelLimit",
    "FunnelPoint",
    "GroupRate",
    "KeySpec",
    "ProportionInterval",
    "RateInterval",
    "ReverificationTime",
    "age_band",
    "alarm_rate",
    "alarm_rates_from_counts",
    "clopper_pearson_interval",
    "funnel",
    "funnel_limit",
    "funnel_limits",
    "month",
    "overdue_rate",
    "pass_rate",
    "poisson_rate_interval",
    "proportion_interval",
    "rates_from_counts",
    "reverification_from_sums",
    "time_to_reverify",
    "wilson_interval",
]

#: a grouping key: a field name, or ``(name, function of a record)`` for a derived key (month, age band)
KeySpec = str | tuple[str, Callable[[Any], object]]


# -- intervals -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProportionInterval:
    """A proportion ``k/n`` with a two-sided confidence interval."""

    successes: int
    trials: int
    estimate: float
    lower: float
    upper: float
    method: str
    confidence: float


def _check_counts(k: int, n: int, confidence: float) -> None:
    if n < 1 or k < 0 or k > n:
        raise InputError("counts", f"need 0 <= successes <= trials and trials >= 1, got {k}/{n}")
    if not 0 < confidence < 1:
        raise InputError("confidence", f"must lie in (0, 1), got {confidence}")


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> ProportionInterval:
    """Wilson score interval (Wilson 1927), without continuity correction:
    ``(p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``."""
    _check_counts(k, n, confidence)
    z = float(norm.ppf(0.5 + confidence / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return ProportionInterval(k, n, p, max(0.0, centre - half), min(1.0, centre + half), "wilson", confidence)


def clopper_pearson_interval(k: int, n: int, confidence: float = 0.95) -> ProportionInterval:
    """Clopper-Pearson interval (1934): ``B(a/2; k, n-k+1)`` and ``B(1-a/2; k+1, n-k)``, 0 and 1 at the ends."""
    _check_counts(k, n, confidence)
    a = 1 - confidence
    lo = 0.0 if k == 0 else float(beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a / 2, k + 1, n - k))
    return ProportionInterval(k, n, k / n, lo, hi, "clopper-pearson", confidence)


def proportion_interval(k: int, n: int, *, method: str = "wilson", confidence: float = 0.95) -> ProportionInterval:
    """Dispatch on ``method``: ``"wilson"`` or ``"clopper-pearson"``."""
    if method == "wilson":
        return wilson_interval(k, n, confidence)
    if method == "clopper-pearson":
        return clopper_pearson_interval(k, n, confidence)
    raise InputError("method", f"unknown interval method {method!r}; use 'wilson' or 'clopper-pearson'")


@dataclass(frozen=True, slots=True)
class RateInterval:
    """A count of events per ``per`` units of exposure with an exact Poisson interval (Garwood 1936)."""

    events: int
    exposure: float
    per: float
    rate: float
    lower: float
    upper: float
    confidence: float


def poisson_rate_interval(
    events: int, exposure: float, *, per: float = 1000.0, confidence: float = 0.95
) -> RateInterval:
    """``per * events / exposure`` with limits ``chi2(a/2; 2x)/2`` and ``chi2(1-a/2; 2x+2)/2`` (Garwood 1936)."""
    if events < 0 or not exposure > 0:
        raise InputError("counts", f"need events >= 0 and exposure > 0, got {events} per {exposure}")
    if not 0 < confidence < 1:
        raise InputError("confidence", f"must lie in (0, 1), got {confidence}")
    a = 1 - confidence
    lo = 0.0 if events == 0 else float(chi2.ppf(a / 2, 2 * events)) / 2
    hi = float(chi2.ppf(1 - a / 2, 2 * events + 2)) / 2
    f = per / exposure
    return RateInterval(events, exposure, per, events * f, lo * f, hi * f, confidence)


# -- records and keys ------------------------------------------------------------------------------------------


def _field(record: Any, name: str) -> Any:
    if isinstance(record, Mapping):
        if name not in record:
            raise InputError(name, "missing from a record")
        return record[name]
    try:
        return getattr(record, name)
    except AttributeError as err:
        raise InputError(name, "missing from a record") from err


def _key_name(spec: KeySpec) -> str:
    return spec if isinstance(spec, str) else spec[0]


def _key_value(record: Any, spec: KeySpec) -> object:
    return _field(record, spec) if isinstance(spec, str) else spec[1](record)


def _group_key(record: Any, group_by: Sequence[KeySpec]) -> tuple[object, ...]:
    return tuple(_key_value(record, s) for s in group_by)


def _as_date(value: object, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError as err:
            raise InputError(name, f"not an ISO date: {value!r}") from err
    raise InputError(name, f"not a date: {value!r}")


def month(field: str) -> tuple[str, Callable[[Any], object]]:
    """A derived key: the calendar month ``YYYY-MM`` of a date field.

    >>> month("date")[1]({"date": "2026-03-14"})
    '2026-03'
    """
    return (f"{field}_month", lambda r: _as_date(_field(r, field), field).strftime("%Y-%m"))


def age_band(field: str, as_of: date, edges: Sequence[int] = (2, 5, 10)) -> tuple[str, Callable[[Any], object]]:
    """A derived key: the age in whole years at ``as_of`` of the date in ``field``, in bands ``[0, e1)``,
    ``[e1, e2)`` ... ``[e_last, )`` (labels ``"0-2"``, ``"2-5"``, ``"10+"``); ``"unknown"`` where the field is
    ``None``.

    >>> age_band("installed", date(2026, 1, 1))[1]({"installed": "2019-06-01"})
    '5-10'
    """
    if list(edges) != sorted(set(edges)) or not edges or edges[0] <= 0:
        raise InputError("edges", f"must be increasing positive years, got {list(edges)}")

    def band(r: Any) -> object:
        raw = _field(r, field)
        if raw is None:
            return "unknown"
        d = _as_date(raw, field)
        years = as_of.year - d.year - ((as_of.month, as_of.day) < (d.month, d.day))
        lo = 0
        for e in edges:
            if years < e:
                return f"{lo}-{e}"
            lo = e
        return f"{edges[-1]}+"

    return (f"{field}_age", band)


@dataclass(frozen=True, slots=True)
class GroupRate:
    """One group's proportion: ``key`` maps the grouping names to this group's values."""

    key: tuple[tuple[str, object], ...]
    interval: ProportionInterval

    @property
    def rate(self) -> float:
        return self.interval.estimate


def _sort_key(key: tuple[object, ...]) -> tuple[str, ...]:
    return tuple(str(v) for v in key)


def rates_from_counts(
    counts: Mapping[tuple[object, ...], Sequence[int]],
    names: Sequence[str],
    *,
    method: str = "wilson",
    confidence: float = 0.95,
) -> tuple[GroupRate, ...]:
    """Group rates from counts ``{group key: (k, n)}`` (groups with ``n = 0`` left out), sorted by key.

    This is the one place where a counted proportion becomes a rate with its interval: the record functions
    below and the Parquet engines (embedded DuckDB and Dask, :mod:`hengqi.server.analytics`) all end here, so
    the same counts give the same numbers.

    >>> rates_from_counts({("A",): (9, 10)}, ["maker"])[0].rate
    0.9
    """
    return tuple(
        GroupRate(
            tuple(zip(names, key, strict=True)),
            proportion_interval(int(k), int(n), method=method, confidence=confidence),
        )
        for key, (k, n) in sorted(counts.items(), key=lambda kv: _sort_key(kv[0]))
        if n > 0
    )


def _rates(
    counts: Mapping[tuple[object, ...], list[int]],
    group_by: Sequence[KeySpec],
    method: str,
    confidence: float,
) -> tuple[GroupRate, ...]:
    return rates_from_counts(counts, [_key_name(s) for s in group_by], method=method, confidence=confidence)


def pass_rate(
    verifications: Iterable[Any],
    *,
    group_by: Sequence[KeySpec] = (),
    outcome: str = "passed",
    method: str = "wilson",
    confidence: float = 0.95,
) -> tuple[GroupRate, ...]:
    """Verification pass rate per group: the share of verifications whose ``outcome`` field is true."""
    counts: dict[tuple[object, ...], list[int]] = defaultdict(lambda: [0, 0])
    for r in verifications:
        c = counts[_group_key(r, group_by)]
        c[0] += bool(_field(r, outcome))
        c[1] += 1
    return _rates(counts, group_by, method, confidence)


def overdue_rate(
    instruments: Iterable[Any],
    *,
    as_of: date,
    due: str = "next_due",
    group_by: Sequence[KeySpec] = (),
    method: str = "wilson",
    confidence: float = 0.95,
) -> tuple[GroupRate, ...]:
    """Share of instruments whose verification is overdue at ``as_of`` (``due`` date before ``as_of``; an
    instrument with no due date counts as overdue: it was never verified)."""
    counts: dict[tuple[object, ...], list[int]] = defaultdict(lambda: [0, 0])
    for r in instruments:
        raw = _field(r, due)
        c = counts[_group_key(r, group_by)]
        c[0] += raw is None or _as_date(raw, due) < as_of
        c[1] += 1
    return _rates(counts, group_by, method, confidence)


def alarm_rate(
    alarms: Iterable[Any],
    exposure: Iterable[Any],
    *,
    group_by: Sequence[KeySpec] = (),
    weight: str | None = None,
    per: float = 1000.0,
    confidence: float = 0.95,
) -> tuple[tuple[tuple[tuple[str, object], ...], RateInterval], ...]:
    """Alarms per ``per`` units of exposure per group, with Garwood intervals.

    ``exposure`` lists the instruments (each counts 1) or, with ``weight``, records whose ``weight`` field is the
    exposure (e.g. the number of remote checks, with ``per=1``).  Groups with alarms but no exposure are refused.
    """
    exp: dict[tuple[object, ...], float] = defaultdict(float)
    for r in exposure:
        exp[_group_key(r, group_by)] += 1.0 if weight is None else float(_field(r, weight))
    events: dict[tuple[object, ...], int] = defaultdict(int)
    for a in alarms:
        events[_group_key(a, group_by)] += 1
    return alarm_rates_from_counts(events, exp, [_key_name(s) for s in group_by], per=per, confidence=confidence)


def alarm_rates_from_counts(
    events: Mapping[tuple[object, ...], int],
    exposure: Mapping[tuple[object, ...], float],
    names: Sequence[str],
    *,
    per: float = 1000.0,
    confidence: float = 0.95,
) -> tuple[tuple[tuple[tuple[str, object], ...], RateInterval], ...]:
    """Alarm rates from counted alarms and exposure per group key (the common end of :func:`alarm_rate` and of
    the Parquet engines); groups with alarms but no exposure are refused, groups without exposure left out."""
    orphans = set(events) - {k for k, v in exposure.items() if v > 0}
    if orphans:
        raise InputError("alarms", f"alarms in groups without exposure: {sorted(map(_sort_key, orphans))[:5]}")
    return tuple(
        (
            tuple(zip(names, key, strict=True)),
            poisson_rate_interval(int(events.get(key, 0)), e, per=per, confidence=confidence),
        )
        for key, e in sorted(exposure.items(), key=lambda kv: _sort_key(kv[0]))
        if e > 0
    )


@dataclass(frozen=True, slots=True)
class ReverificationTime:
    """Days from a failed verification to the next passed one, per group.

    Attributes:
        mean_days: mean over the failures that were followed by a pass (``None`` if none was).
        resolved: failures followed by a pass.
        open: failures not (yet) followed by a pass.
    """

    key: tuple[tuple[str, object], ...]
    mean_days: float | None
    resolved: int
    open: int


def time_to_reverify(
    verifications: Iterable[Any],
    *,
    instrument: str = "instrument_id",
    when: str = "date",
    outcome: str = "passed",
    group_by: Sequence[KeySpec] = (),
) -> tuple[ReverificationTime, ...]:
    """Mean time to re-verify after a failure: for each instrument, each failed verification is paired with the
    first later passed one (several failures before one pass each count from their own date).  Groups are taken
    from the failed verification's record."""
    by_instrument: dict[object, list[tuple[date, bool, Any]]] = defaultdict(list)
    for r in verifications:
        by_instrument[_field(r, instrument)].append((_as_date(_field(r, when), when), bool(_field(r, outcome)), r))
    acc: dict[tuple[object, ...], list[float]] = defaultdict(lambda: [0.0, 0, 0])
    for rows in by_instrument.values():
        rows.sort(key=lambda t: (t[0], t[1]))
        for i, (d, ok, rec) in enumerate(rows):
            if ok:
                continue
            a = acc[_group_key(rec, group_by)]
            nxt = next((d2 for d2, ok2, _ in rows[i + 1 :] if ok2), None)
            if nxt is None:
                a[2] += 1
            else:
                a[0] += (nxt - d).days
                a[1] += 1
    return reverification_from_sums(
        {key: (int(t), int(n), int(o)) for key, (t, n, o) in acc.items()}, [_key_name(s) for s in group_by]
    )


def reverification_from_sums(
    sums: Mapping[tuple[object, ...], Sequence[int]], names: Sequence[str]
) -> tuple[ReverificationTime, ...]:
    """Mean time to re-verify from ``{group key: (total days, resolved failures, open failures)}``; the total
    is an integer number of days, so sums from any partitioning of the instruments give the same mean.

    >>> reverification_from_sums({("A",): (30, 2, 1)}, ["maker"])[0].mean_days
    15.0
    """
    return tuple(
        ReverificationTime(tuple(zip(names, key, strict=True)), (s / n) if n else None, int(n), int(o))
        for key, (s, n, o) in sorted(sums.items(), key=lambda kv: _sort_key(kv[0]))
    )


# -- funnel plots ----------------------------------------------------------------------------------------------


def funnel_limit(p0: float, n: int, probability: float) -> float:
    """The ``probability``-quantile of the observed proportion of ``n`` trials when the true rate is ``p0``,
    interpolated between the discrete binomial steps (Spiegelhalter 2005, appendix; SECONDARY):
    ``r_p`` the smallest ``r`` with ``F(r) >= p``, ``alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1))``,
    limit ``(r_p - alpha) / n``."""
    if n < 1 or not 0 <= p0 <= 1 or not 0 < probability < 1:
        raise InputError("funnel", f"need n >= 1, 0 <= p0 <= 1, 0 < p < 1; got n={n}, p0={p0}, p={probability}")
    r = float(binom.ppf(probability, n, p0))
    f_r = float(binom.cdf(r, n, p0))
    f_prev = float(binom.cdf(r - 1, n, p0)) if r >= 1 else 0.0
    alpha = (f_r - probability) / (f_r - f_prev) if f_r > f_prev else 0.0
    return min(1.0, max(0.0, (r - alpha) / n))


def funnel_limits(p0: float, ns: Sequence[int] | np.ndarray, probability: float) -> np.ndarray:
    """:func:`funnel_limit` for many group sizes at once (numpy arrays), same formula."""
    n = np.asarray(ns, dtype=float)
    if n.ndim != 1 or np.any(n < 1) or not 0 <= p0 <= 1 or not 0 < probability < 1:
        raise InputError("funnel", f"need sizes >= 1, 0 <= p0 <= 1, 0 < p < 1; got p0={p0}, p={probability}")
    r = binom.ppf(probability, n, p0)
    f_r = binom.cdf(r, n, p0)
    f_prev = binom.cdf(r - 1, n, p0)
    step = f_r - f_prev
    alpha = np.divide(f_r - probability, step, out=np.zeros_like(step), where=step > 0)
    limits: np.ndarray = np.clip((r - alpha) / n, 0.0, 1.0)
    return limits


@dataclass(frozen=True, slots=True)
class FunnelLimit:
    """The two-sided control limits at one level (e.g. 0.95 and 0.998) for a group of size ``n``."""

    level: float
    lower: float
    upper: float


@dataclass(frozen=True, slots=True)
class FunnelPoint:
    """One group on the funnel plot: its rate, its limits, and the widest level it lies outside of
    (``flag`` ``"high"``/``"low"`` at that level, ``None`` when within every level)."""

    group: GroupRate
    limits: tuple[FunnelLimit, ...]
    outside_level: float | None
    flag: str | None


def funnel(
    groups: Sequence[GroupRate], *, levels: Sequence[float] = (0.95, 0.998), target: float | None = None
) -> tuple[float, tuple[FunnelPoint, ...]]:
    """Funnel plot of the group rates around ``target`` (default the overall rate ``sum k / sum n``):
    returns the target and, per group, the limits and flag (Spiegelhalter 2005)."""
    total_k = sum(g.interval.successes for g in groups)
    total_n = sum(g.interval.trials for g in groups)
    if total_n == 0:
        raise InputError("groups", "no trials")
    p0 = total_k / total_n if target is None else target
    ns = np.array([g.interval.trials for g in groups], dtype=float)
    bounds = {
        lv: (funnel_limits(p0, ns, (1 - lv) / 2), funnel_limits(p0, ns, 1 - (1 - lv) / 2)) for lv in sorted(levels)
    }
    points = []
    for i, g in enumerate(groups):
        p = g.interval.estimate
        lims = tuple(FunnelLimit(lv, float(lo[i]), float(hi[i])) for lv, (lo, hi) in bounds.items())
        outside = [lim for lim in lims if p < lim.lower or p > lim.upper]
        widest = outside[-1] if outside else None
        flag = None if widest is None else ("high" if p > widest.upper else "low")
        points.append(FunnelPoint(g, lims, None if widest is None else widest.level, flag))
    return p0, tuple(points)
