"""Fleet statistics: intervals against scipy's binomtest, Poisson limits against gamma quantiles, grouping,
time to re-verify and funnel-plot limits (Spiegelhalter 2005)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, binomtest, gamma, norm

from hengqi.errors import InputError
from hengqi.supervision.statistics import (
    GroupRate,
    age_band,
    alarm_rate,
    clopper_pearson_interval,
    funnel,
    funnel_limit,
    funnel_limits,
    month,
    overdue_rate,
    pass_rate,
    poisson_rate_interval,
    proportion_interval,
    time_to_reverify,
    wilson_interval,
)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))), st.sampled_from([0.9, 0.95, 0.99])
)
def test_intervals_match_scipy_binomtest(kn: tuple[int, int], confidence: float) -> None:
    k, n = kn
    ref = binomtest(k, n)
    w, cp = wilson_interval(k, n, confidence), clopper_pearson_interval(k, n, confidence)
    rw, rcp = ref.proportion_ci(confidence, method="wilson"), ref.proportion_ci(confidence, method="exact")
    assert w.lower == pytest.approx(rw.low, abs=1e-12)
    assert w.upper == pytest.approx(rw.high, abs=1e-12)
    assert cp.lower == pytest.approx(rcp.low, abs=1e-10)
    assert cp.upper == pytest.approx(rcp.high, abs=1e-10)
    assert cp.lower <= k / n <= cp.upper


def test_interval_input_refused() -> None:
    for k, n in ((3, 2), (-1, 5), (0, 0)):
        with pytest.raises(InputError):
            wilson_interval(k, n)
    with pytest.raises(InputError, match="unknown interval method"):
        proportion_interval(1, 2, method="wald")
    with pytest.raises(InputError):
        clopper_pearson_interval(1, 2, confidence=1.0)


def test_garwood_poisson_limits_against_gamma_quantiles() -> None:
    for k in (0, 1, 7, 120):
        r = poisson_rate_interval(k, 2500.0, per=1000.0)
        lo = 0.0 if k == 0 else gamma.ppf(0.025, k)
        assert r.lower == pytest.approx(lo * 1000 / 2500, rel=1e-10, abs=1e-15)
        assert r.upper == pytest.approx(gamma.ppf(0.975, k + 1) * 1000 / 2500, rel=1e-10)
        assert r.rate == pytest.approx(k * 1000 / 2500)
    # zero events: upper limit -ln(0.025) events
    assert poisson_rate_interval(0, 1.0, per=1.0).upper == pytest.approx(-np.log(0.025), rel=1e-10)
    with pytest.raises(InputError):
        poisson_rate_interval(1, 0.0)


@dataclass(frozen=True)
class Verification:
    instrument_id: str
    site: str
    region: str
    date: date
    passed: bool


def _fleet(seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    for i in range(3000):
        region = ["east", "west", "north"][i % 3]
        rows.append(
            {
                "instrument_id": f"I{i}",
                "region": region,
                "site": f"{region}-{i % 17}",
                "maker": ["A", "B"][i % 2],
                "date": (date(2026, 1, 1) + timedelta(days=int(rng.integers(0, 365)))).isoformat(),
                "passed": bool(rng.random() < (0.93 if region != "north" else 0.85)),
            }
        )
    return rows


def test_pass_rate_groups_count_every_record() -> None:
    rows = _fleet(seed=15)
    rates = pass_rate(rows, group_by=("region", "maker"))
    assert sum(g.interval.trials for g in rates) == len(rows)
    for g in rates:
        key = dict(g.key)
        sel = [r for r in rows if r["region"] == key["region"] and r["maker"] == key["maker"]]
        assert g.interval.trials == len(sel)
        assert g.interval.successes == sum(bool(r["passed"]) for r in sel)
        assert g.interval.lower <= g.rate <= g.interval.upper
    (overall,) = pass_rate(rows)
    assert overall.key == ()
    assert overall.interval.successes == sum(bool(r["passed"]) for r in rows)


def test_pass_rate_by_month_over_dataclasses() -> None:
    recs = [
        Verification("a", "s1", "east", date(2026, 1, 5), True),
        Verification("b", "s1", "east", date(2026, 1, 31), False),
        Verification("c", "s2", "east", date(2026, 2, 1), True),
    ]
    rates = pass_rate(recs, group_by=(month("date"),), method="clopper-pearson")
    assert [dict(g.key)["date_month"] for g in rates] == ["2026-01", "2026-02"]
    assert [(g.interval.successes, g.interval.trials) for g in rates] == [(1, 2), (1, 1)]
    assert rates[0].interval.method == "clopper-pearson"
    with pytest.raises(InputError, match="region_x"):
        pass_rate(recs, group_by=("region_x",))


def test_age_band_boundaries() -> None:
    name, band = age_band("installed", date(2026, 6, 1))
    assert name == "installed_age"
    assert band({"installed": "2024-06-01"}) == "2-5"  # exactly 2 years
    assert band({"installed": "2024-06-02"}) == "0-2"
    assert band({"installed": date(2016, 6, 1)}) == "10+"
    assert band({"installed": None}) == "unknown"
    with pytest.raises(InputError):
        band({"installed": "last year"})
    with pytest.raises(InputError):
        age_band("installed", date(2026, 1, 1), edges=(5, 2))


def test_overdue_rate_boundary_is_exact() -> None:
    as_of = date(2026, 12, 7)
    instruments = [
        {"id": 1, "region": "east", "next_due": "2026-12-07"},  # due today: not overdue
        {"id": 2, "region": "east", "next_due": "2026-12-06"},
        {"id": 3, "region": "east", "next_due": None},  # never verified
        {"id": 4, "region": "west", "next_due": "2027-01-01"},
    ]
    east, west = overdue_rate(instruments, as_of=as_of, group_by=("region",))
    assert (east.interval.successes, east.interval.trials) == (2, 3)
    assert (west.interval.successes, west.interval.trials) == (0, 1)


def test_alarm_rate_per_1000_instruments_and_per_check() -> None:
    instruments = [{"region": "east"}] * 2000 + [{"region": "west"}] * 500
    alarms = [{"region": "east"}] * 6 + [{"region": "west"}] * 4
    (east, re), (_west, rw) = alarm_rate(alarms, instruments, group_by=("region",))
    assert dict(east) == {"region": "east"}
    assert re.rate == pytest.approx(3.0)
    assert rw.rate == pytest.approx(8.0)
    checks = [{"region": "east", "checks": 150}, {"region": "east", "checks": 50}]
    ((_, per_check),) = alarm_rate(alarms[:6], checks, group_by=("region",), weight="checks", per=1.0)
    assert per_check.rate == pytest.approx(6 / 200)
    with pytest.raises(InputError, match="without exposure"):
        alarm_rate([{"region": "south"}], instruments, group_by=("region",))


def test_time_to_reverify() -> None:
    rows = [
        {"instrument_id": "x", "date": "2026-01-01", "passed": False, "site": "s1"},
        {"instrument_id": "x", "date": "2026-01-10", "passed": False, "site": "s1"},
        {"instrument_id": "x", "date": "2026-01-20", "passed": True, "site": "s1"},
        {"instrument_id": "y", "date": "2026-03-01", "passed": False, "site": "s1"},  # never re-verified
        {"instrument_id": "z", "date": "2026-02-01", "passed": False, "site": "s2"},
        {"instrument_id": "z", "date": "2026-02-04", "passed": True, "site": "s2"},
        {"instrument_id": "z", "date": "2026-01-01", "passed": True, "site": "s2"},  # earlier pass: ignored
    ]
    s1, s2 = time_to_reverify(rows, group_by=("site",))
    assert s1.mean_days == pytest.approx((19 + 10) / 2)
    assert (s1.resolved, s1.open) == (2, 1)
    assert s2.mean_days == pytest.approx(3)
    (only_open,) = time_to_reverify(rows[3:4])
    assert only_open.mean_days is None
    assert only_open.open == 1


@pytest.mark.parametrize("p0", [0.05, 0.5, 0.93])
def test_funnel_limit_is_a_binomial_quantile(p0: float) -> None:
    for n in (10, 57, 400, 5000):
        for p in (0.001, 0.025, 0.975, 0.999):
            lim = funnel_limit(p0, n, p)
            r = np.ceil(lim * n - 1e-9)  # the step the interpolation lies below
            assert binom.cdf(r - 1, n, p0) <= p + 1e-12
            assert binom.cdf(r, n, p0) >= p - 1e-12


def test_funnel_limits_approach_the_normal_limits() -> None:
    p0, n = 0.93, 200_000
    z = norm.ppf(0.999)
    half = z * np.sqrt(p0 * (1 - p0) / n)
    assert funnel_limit(p0, n, 0.999) == pytest.approx(p0 + half, abs=2 / n + 1e-4 * half)
    assert funnel_limit(p0, n, 0.001) == pytest.approx(p0 - half, abs=2 / n + 1e-4 * half)


def test_funnel_flags_the_out_of_line_site() -> None:
    rng = np.random.default_rng(2005)  # seed recorded
    groups = []
    for i in range(40):
        n = int(rng.integers(50, 2000))
        rate = 0.80 if i == 7 else 0.93
        groups.append(GroupRate((("site", f"s{i}"),), wilson_interval(int(rng.binomial(n, rate)), n)))
    big = GroupRate((("site", "bad"),), wilson_interval(700, 1000))
    p0, points = funnel([*groups, big])
    assert p0 == pytest.approx(
        sum(g.interval.successes for g in [*groups, big]) / sum(g.interval.trials for g in [*groups, big])
    )
    flagged = {dict(pt.group.key)["site"]: (pt.flag, pt.outside_level) for pt in points if pt.flag}
    assert flagged["bad"] == ("low", 0.998)
    in_control_998 = [s for s, (_, lv) in flagged.items() if lv == 0.998 and s not in ("bad", "s7")]
    assert len(in_control_998) <= 1  # 0.2 % each
    for pt in points:
        (l95, l998) = pt.limits
        assert l998.lower <= l95.lower <= p0 <= l95.upper <= l998.upper
    with pytest.raises(InputError):
        funnel([])


def test_vectorised_funnel_limits_equal_the_scalar_ones() -> None:
    ns = [1, 2, 10, 57, 400, 5000, 123_456]
    for p0 in (0.0, 0.05, 0.5, 0.93, 1.0):
        for p in (0.001, 0.025, 0.975, 0.999):
            vector = funnel_limits(p0, ns, p)
            assert list(vector) == pytest.approx([funnel_limit(p0, n, p) for n in ns], abs=1e-12)
    with pytest.raises(InputError):
        funnel_limits(0.5, [0, 3], 0.5)
