"""Samples for market surveillance by population: group the instruments in service into populations (e.g. model ×
age band × region), size for each the sample that shows "at least ``P`` of the population conforming at
confidence ``C``" (:func:`hengqi.supervision.sampling.conformance_plan`, hypergeometric for a population of
``N``), and draw that many instruments at random.  Pure functions, no I/O.

The draw is seeded (``numpy.random.default_rng(seed)``; the seed is recorded in every result) and reproducible:
the instruments of a population are sorted by id before the draw, so the same registry and seed give the same
sample whatever order the records came in.

>>> fleet = [{"instrument_id": f"S-{i}", "model": "B-30" if i < 30 else "X-6"} for i in range(40)]
>>> [(s.key, s.population, s.n) for s in population_samples(fleet, ["model"], seed=7)]
[(('B-30',), 30, 23), (('X-6',), 10, 10)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hengqi.errors import InputError
from hengqi.supervision.sampling import conformance_plan
from hengqi.supervision.statistics import _field

__all__ = ["PopulationSample", "population_samples"]

KeySpec = str | tuple[str, Callable[[Any], object]]


@dataclass(frozen=True, slots=True)
class PopulationSample:
    """One population: its key values, size ``population``, the sample size ``n`` with acceptance number ``c``
    (at most ``c`` of the ``n`` may fail for the claim to hold), the ``risk`` of the plan, and the ids drawn (sorted)
    with ``seed``.  ``n == population`` means: inspect every instrument of it."""

    key: tuple[object, ...]
    population: int
    n: int
    c: int
    proportion: float
    confidence: float
    risk: float
    seed: int
    instrument_ids: tuple[str, ...]


def _key_name(spec: KeySpec) -> str:
    return spec if isinstance(spec, str) else spec[0]


def population_samples(
    instruments: Iterable[Any],
    group_by: Sequence[KeySpec],
    *,
    seed: int,
    proportion: float = 0.95,
    confidence: float = 0.95,
    acceptance_number: int = 0,
    instrument: str = "instrument_id",
) -> tuple[PopulationSample, ...]:
    """Per population of ``instruments`` grouped by ``group_by`` (field names or ``(name, function)`` pairs such
    as :func:`hengqi.supervision.statistics.age_band`), the conformance plan for that population size and the
    instruments drawn for it; populations in the order of their keys (as text)."""
    if not isinstance(seed, int) or seed < 0:
        raise InputError("seed", f"must be a non-negative integer, got {seed!r}")
    groups: dict[tuple[object, ...], list[str]] = {}
    for record in instruments:
        key = tuple(
            _field(record, spec) if isinstance(spec, str) else spec[1](record)
            for spec in group_by
        )  # fmt: skip
        groups.setdefault(key, []).append(str(_field(record, instrument)))
    rng = np.random.default_rng(seed)
    out = []
    for key in sorted(groups, key=lambda k: tuple(str(v) for v in k)):
        ids = sorted(groups[key])
        if len(set(ids)) != len(ids):
            raise InputError(
                instrument,
                f"an instrument appears twice in population {dict(zip(map(_key_name, group_by), key, strict=True))}",
            )
        # without replacement needs no more items than with it (the population holds at least (1 - P) N bad ones):
        # the binomial plan bounds the search, which keeps large populations fast
        bound = conformance_plan(proportion, confidence, acceptance_number=acceptance_number).n
        try:
            plan = conformance_plan(
                proportion, confidence, acceptance_number=acceptance_number, population=len(ids), max_n=bound
            )
        except InputError:
            plan = conformance_plan(proportion, confidence, acceptance_number=acceptance_number, population=len(ids))
        chosen = rng.choice(len(ids), size=plan.n, replace=False) if plan.n < len(ids) else np.arange(len(ids))
        out.append(
            PopulationSample(
                key, len(ids), plan.n, plan.c, proportion, confidence, plan.risk, seed,
                tuple(sorted(ids[int(i)] for i in chosen)),
            )
        )  # fmt: skip
    return tuple(out)
