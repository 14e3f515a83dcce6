"""Sampling plans for market surveillance and a risk-based choice of which instruments to inspect next.
Pure functions, no I/O.

* :func:`attribute_plan`: a single-sampling attributes plan ``(n, c)`` computed from two points of the
  operating characteristic (OC) curve: the lot is accepted with probability at least ``1 - alpha`` when its
  nonconforming fraction is the AQL (producer's risk ``alpha``) and at most ``beta`` when it is the limiting
  quality LQ (consumer's risk ``beta``).  OC by the binomial distribution (a process or a large population) or
  the hypergeometric distribution (a population of ``N`` instruments).  This is the classical two-point design
  (e.g. Montgomery, *Introduction to Statistical Quality Control*, the chapter on lot-by-lot acceptance
  sampling for attributes); it is **not** ISO 2859-1, whose tables (code letters, AQL series, switching rules)
  were not available to read and are not reproduced here.
* :func:`conformance_plan`: the sample that shows "at least ``P`` of the population conforming at confidence
  ``C``": the smallest ``n`` for which a population with a conforming fraction just below ``P`` would show at
  most ``c`` nonconforming instruments with probability at most ``1 - C`` (with ``c = 0``, ``P = C = 0.95``:
  ``0.95^n <= 0.05``, ``n = 59``).
* :func:`rank_for_inspection`: a transparent risk score per instrument from overdue time, failure history and
  recent alarms.  The weights are hengqi's own choice, stated in :class:`RiskWeights`; they do not come from a
  standard.

>>> conformance_plan(0.95, 0.95).n
59
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from scipy.stats import binom, hypergeom

from hengqi.errors import InputError
from hengqi.supervision.statistics import _as_date, _field

__all__ = [
    "AttributePlan",
    "ConformancePlan",
    "InspectionPriority",
    "RiskWeights",
    "attribute_plan",
    "conformance_plan",
    "operating_characteristic",
    "rank_for_inspection",
]


def _check_fraction(name: str, value: float, *, closed_low: bool = False) -> None:
    ok = (0 <= value < 1) if closed_low else (0 < value < 1)
    if not ok:
        raise InputError(name, f"must lie in {'[0' if closed_low else '(0'}, 1), got {value}")


def operating_characteristic(n: int, c: int, p: float, *, lot_size: int | None = None) -> float:
    """Probability of accepting (at most ``c`` nonconforming in ``n``) when the nonconforming fraction is ``p``;
    with ``lot_size`` ``N`` the lot holds ``round(p N)`` nonconforming items (hypergeometric)."""
    if n < 1 or c < 0:
        raise InputError("plan", f"need n >= 1 and c >= 0, got n={n}, c={c}")
    if not 0 <= p <= 1:
        raise InputError("p", f"must lie in [0, 1], got {p}")
    if lot_size is None:
        return float(binom.cdf(c, n, p))
    if n > lot_size:
        raise InputError("n", f"a sample of {n} exceeds the lot of {lot_size}")
    return float(hypergeom.cdf(c, lot_size, round(p * lot_size), n))


@dataclass(frozen=True, slots=True)
class AttributePlan:
    """A single-sampling attributes plan: inspect ``n``, accept the lot with at most ``c`` nonconforming.

    ``p_accept_aql`` and ``p_accept_lq`` are the OC values at the two design points; ``method`` names the
    distribution used."""

    n: int
    c: int
    aql: float
    lq: float
    producer_risk: float
    consumer_risk: float
    lot_size: int | None
    p_accept_aql: float
    p_accept_lq: float
    method: str


def attribute_plan(
    aql: float,
    lq: float,
    *,
    producer_risk: float = 0.05,
    consumer_risk: float = 0.10,
    lot_size: int | None = None,
    max_n: int = 20_000,
) -> AttributePlan:
    """The smallest ``n`` (and the smallest ``c`` for it) with ``OC(AQL) >= 1 - alpha`` and ``OC(LQ) <= beta``.

    Binomial OC without ``lot_size``; hypergeometric OC with ``lot_size`` ``N``, where a lot at the AQL holds
    ``floor(AQL N)`` and a lot at the LQ ``ceil(LQ N)`` nonconforming items (both conservative).
    """
    _check_fraction("aql", aql, closed_low=True)
    _check_fraction("lq", lq)
    _check_fraction("producer_risk", producer_risk)
    _check_fraction("consumer_risk", consumer_risk)
    if not aql < lq:
        raise InputError("lq", f"the limiting quality {lq} must exceed the AQL {aql}")
    if lot_size is not None and lot_size < 1:
        raise InputError("lot_size", f"must be at least 1, got {lot_size}")
    top = max_n if lot_size is None else min(max_n, lot_size)
    ns = np.arange(1, top + 1)
    if lot_size is None:
        cs = binom.ppf(1 - producer_risk, ns, aql)  # smallest c with OC(AQL) >= 1 - alpha
        oc_lq = binom.cdf(cs, ns, lq)
        method = "binomial"
    else:
        d_aql, d_lq = math.floor(aql * lot_size), math.ceil(lq * lot_size)
        cs = hypergeom.ppf(1 - producer_risk, lot_size, d_aql, ns)
        oc_lq = hypergeom.cdf(cs, lot_size, d_lq, ns)
        method = f"hypergeometric, N = {lot_size}"
    ok = np.nonzero(oc_lq <= consumer_risk)[0]
    if ok.size == 0:
        raise InputError("plan", f"no plan with n <= {top} meets both risks; widen the gap between AQL and LQ")
    i = int(ok[0])
    n, c = int(ns[i]), int(cs[i])
    return AttributePlan(
        n,
        c,
        aql,
        lq,
        producer_risk,
        consumer_risk,
        lot_size,
        _oc(n, c, aql, lot_size, math.floor),
        _oc(n, c, lq, lot_size, math.ceil),
        method,
    )


def _oc(n: int, c: int, p: float, lot_size: int | None, rounding: Any) -> float:
    if lot_size is None:
        return float(binom.cdf(c, n, p))
    return float(hypergeom.cdf(c, lot_size, rounding(p * lot_size), n))


@dataclass(frozen=True, slots=True)
class ConformancePlan:
    """Sample ``n`` instruments; if at most ``c`` fail, the population conforms to at least ``proportion`` at
    ``confidence``.  ``risk`` is the probability of that outcome for the worst population that does not."""

    n: int
    c: int
    proportion: float
    confidence: float
    population: int | None
    risk: float
    method: str


def conformance_plan(
    proportion: float = 0.95,
    confidence: float = 0.95,
    *,
    acceptance_number: int = 0,
    population: int | None = None,
    max_n: int = 100_000,
) -> ConformancePlan:
    """The smallest sample demonstrating ``proportion`` conforming at ``confidence`` with at most
    ``acceptance_number`` failures: binomial ``F(c; n, 1 - P) <= 1 - C``, or, for a population of ``N``,
    hypergeometric with ``floor((1 - P) N) + 1`` nonconforming (the fewest that break the claim)."""
    _check_fraction("proportion", proportion)
    _check_fraction("confidence", confidence)
    if acceptance_number < 0:
        raise InputError("acceptance_number", f"must be >= 0, got {acceptance_number}")
    c, alpha = acceptance_number, 1 - confidence
    top = max_n if population is None else min(max_n, population)
    ns = np.arange(c + 1, top + 1)
    if population is None:
        risks = binom.cdf(c, ns, 1 - proportion)
        method = "binomial"
    else:
        if population < 1:
            raise InputError("population", f"must be at least 1, got {population}")
        bad = math.floor((1 - proportion) * population) + 1
        risks = hypergeom.cdf(c, population, min(bad, population), ns)
        method = f"hypergeometric, N = {population}"
    ok = np.nonzero(risks <= alpha)[0]
    if ok.size == 0:
        raise InputError("plan", f"no sample of at most {top} demonstrates the claim")
    i = int(ok[0])
    return ConformancePlan(int(ns[i]), c, proportion, confidence, population, float(risks[i]), method)


# -- risk-based selection --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RiskWeights:
    """Weights of hengqi's inspection score (not from a standard): ``overdue`` per year overdue (capped at
    ``overdue_cap_years``), ``never_verified`` once, ``failure`` times the share of failed verifications among
    the last ``history`` ones, ``alarm`` per ``log(1 + alarms)`` in the window before ``as_of``."""

    overdue: float = 3.0
    overdue_cap_years: float = 2.0
    never_verified: float = 4.0
    failure: float = 4.0
    history: int = 3
    alarm: float = 1.0
    alarm_window_days: int = 90


@dataclass(frozen=True, slots=True)
class InspectionPriority:
    """One instrument's score and the reasons behind it, highest first in :func:`rank_for_inspection`."""

    instrument_id: str
    score: float
    days_overdue: int | None
    failure_share: float
    recent_alarms: int
    reasons: tuple[str, ...]


def rank_for_inspection(
    instruments: Iterable[Any],
    *,
    as_of: date,
    verifications: Iterable[Any] = (),
    alarms: Iterable[Any] = (),
    weights: RiskWeights | None = None,
    instrument: str = "instrument_id",
    due: str = "next_due",
    when: str = "date",
    outcome: str = "passed",
) -> tuple[InspectionPriority, ...]:
    """Rank instruments for inspection by the score of :class:`RiskWeights`; ties by instrument id."""
    w = weights or RiskWeights()
    history: dict[str, list[tuple[date, bool]]] = {}
    for v in verifications:
        history.setdefault(str(_field(v, instrument)), []).append(
            (_as_date(_field(v, when), when), bool(_field(v, outcome)))
        )
    recent: dict[str, int] = {}
    for a in alarms:
        d = _as_date(_field(a, when), when)
        if 0 <= (as_of - d).days < w.alarm_window_days:
            key = str(_field(a, instrument))
            recent[key] = recent.get(key, 0) + 1
    ranked = []
    for inst in instruments:
        iid = str(_field(inst, instrument))
        raw = _field(inst, due)
        reasons: list[str] = []
        score = 0.0
        days: int | None = None
        if raw is None:
            score += w.never_verified
            reasons.append("never verified")
        else:
            days = max(0, (as_of - _as_date(raw, due)).days)
            if days > 0:
                score += w.overdue * min(days / 365.25, w.overdue_cap_years)
                reasons.append(f"overdue {days} d")
        last = sorted(history.get(iid, []))[-w.history :] if w.history > 0 else []
        share = sum(not ok for _, ok in last) / len(last) if last else 0.0
        if share > 0:
            score += w.failure * share
            reasons.append(f"failed {sum(not ok for _, ok in last)} of last {len(last)}")
        n_alarms = recent.get(iid, 0)
        if n_alarms:
            score += w.alarm * math.log1p(n_alarms)
            reasons.append(f"{n_alarms} alarms in {w.alarm_window_days} d")
        ranked.append(InspectionPriority(iid, score, days, share, n_alarms, tuple(reasons)))
    ranked.sort(key=lambda p: (-p.score, p.instrument_id))
    return tuple(ranked)
