"""Per-population samples for "at least 95 % conforming at 95 % confidence" (hypergeometric), seeded draws."""

from __future__ import annotations

import random
from datetime import date

import pytest

from hengqi.errors import InputError
from hengqi.supervision.populations import population_samples
from hengqi.supervision.statistics import age_band


def _fleet() -> list[dict[str, object]]:
    fleet = []
    for i in range(300):
        fleet.append({
            "instrument_id": f"S-{i:04d}",
            "model": ("B-30", "X-6")[i % 2],
            "installed": ("2024-03-01", "2018-06-01", None)[i % 3],
            "region": ("310101", "610102")[(i // 2) % 2],
        })  # fmt: skip
    return fleet


def test_sizes_match_the_hypergeometric_claim() -> None:
    # N = 30: the claim fails with floor(0.05 * 30) + 1 = 2 nonconforming; P(none of them in n) =
    # (30 - n)(29 - n) / (30 * 29) <= 0.05 first at n = 23 (42 / 870 = 0.048; n = 22: 56 / 870 = 0.064)
    fleet = [{"instrument_id": f"A-{i}", "model": "B-30"} for i in range(30)]
    (s,) = population_samples(fleet, ["model"], seed=1)
    assert (s.population, s.n, s.c) == (30, 23, 0)
    assert s.risk == pytest.approx(42 / 870)
    # a large population tends to the binomial plan: 0.95^59 = 0.0485 <= 0.05 < 0.95^58
    big = [{"instrument_id": f"B-{i}", "model": "M"} for i in range(100_000)]
    assert population_samples(big, ["model"], seed=1)[0].n == 59
    # a small one is inspected in full
    small = [{"instrument_id": f"C-{i}", "model": "M"} for i in range(10)]
    (t,) = population_samples(small, ["model"], seed=1)
    assert (t.n, t.instrument_ids) == (10, tuple(sorted(f"C-{i}" for i in range(10))))


def test_model_by_age_by_region_and_reproducible_draws() -> None:
    fleet = _fleet()
    keys = ["model", age_band("installed", date(2026, 12, 1)), "region"]
    first = population_samples(fleet, keys, seed=20261207)
    assert len(first) == 2 * 3 * 2
    assert {s.key[1] for s in first} == {"2-5", "5-10", "unknown"}
    by_key: dict[tuple[object, ...], set[str]] = {}
    for r in fleet:
        key = (r["model"], keys[1][1](r), r["region"])  # type: ignore[index,operator]
        by_key.setdefault(key, set()).add(str(r["instrument_id"]))
    for s in first:
        assert s.population == len(by_key[s.key])
        assert set(s.instrument_ids) <= by_key[s.key]
        assert len(set(s.instrument_ids)) == s.n
        assert s.seed == 20261207
    shuffled = fleet[:]
    random.Random(3).shuffle(shuffled)
    assert population_samples(shuffled, keys, seed=20261207) == first  # record order does not matter
    assert population_samples(fleet, keys, seed=20261208) != first


def test_bad_input() -> None:
    with pytest.raises(InputError):
        population_samples(_fleet(), ["model"], seed=-1)
    with pytest.raises(InputError, match="appears twice"):
        population_samples([{"instrument_id": "S-1", "model": "M"}] * 2, ["model"], seed=1)
    with pytest.raises(InputError):
        population_samples([{"instrument_id": "S-1"}], ["model"], seed=1)
    with pytest.raises(InputError):
        population_samples(_fleet(), ["model"], seed=1, proportion=1.2)


@pytest.mark.parametrize("c", [0, 1, 2])
def test_the_binomial_bound_never_changes_the_plan(c: int) -> None:
    from hengqi.supervision.sampling import conformance_plan

    for size in (5, 30, 57, 100, 400, 1000, 3000):
        fleet = [{"instrument_id": f"S-{i}", "model": "M"} for i in range(size)]
        try:
            full = conformance_plan(0.95, 0.95, acceptance_number=c, population=size)
        except InputError:
            with pytest.raises(InputError):
                population_samples(fleet, ["model"], seed=1, acceptance_number=c)
            continue
        (s,) = population_samples(fleet, ["model"], seed=1, acceptance_number=c)
        assert (s.n, s.c, s.risk) == (full.n, full.c, full.risk)
