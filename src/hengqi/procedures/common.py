"""Pieces shared by the verification and calibration plans: mass text, weight sets, live results.

>>> mass_text(Decimal("0.0050"))
'5 g'
>>> compose(Decimal("7"), [("W5", Decimal("5")), ("W2", Decimal("2")), ("W2*", Decimal("2")), ("W1", Decimal("1"))])
('W5', 'W2')
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from hengqi.errors import InputError
from hengqi.metrology.quantities import format_mass, parse_mass
from hengqi.metrology.r76 import Check, PointResult
from hengqi.procedures.steps import LiveResult

#: How many partial sums :func:`compose` tries before it gives up.
COMPOSE_BUDGET = 20_000


def json_safe(data: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping as plain JSON values (dates and decimals as text), as a run state keeps it.

    >>> import datetime
    >>> json_safe({"date": datetime.date(2026, 11, 25), "n": Decimal("1.5"), "list": [1, None]})
    {'date': '2026-11-25', 'n': '1.5', 'list': [1, None]}
    """
    result = json.loads(json.dumps(dict(data), default=str))
    if not isinstance(result, dict):  # pragma: no cover - a mapping stays a mapping
        raise InputError("", "expected a mapping")
    return result


def mass_text(kg: Decimal) -> str:
    """A mass as record files write it (exact, with its unit)."""
    return format_mass(kg.normalize() if kg != 0 else Decimal(0))


def parse_load(value: object, path: str) -> Decimal:
    """A load written with its unit (``"2 kg"``); a bare number is refused."""
    return parse_mass(value, path=path)


def multiple_of(value: Decimal, step: Decimal, *, up: bool = False) -> Decimal:
    """``value`` rounded down (or up) to a whole multiple of ``step``.

    >>> multiple_of(Decimal("4285.714"), Decimal("10")), multiple_of(Decimal("4285.714"), Decimal("10"), up=True)
    (Decimal('4280'), Decimal('4290'))
    """
    count = (value / step).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return count * step


def compose(load_kg: Decimal, weights: Sequence[tuple[str, Decimal]]) -> tuple[str, ...]:
    """Ids of reference weights whose nominal values add up exactly to ``load_kg`` (largest first), or ``()``.

    A depth-first search over the weights sorted by nominal value, stopped after :data:`COMPOSE_BUDGET` tries.
    """
    if load_kg <= 0:
        return ()
    ordered = sorted(weights, key=lambda item: item[1], reverse=True)
    suffix = [Decimal(0)] * (len(ordered) + 1)
    for index in range(len(ordered) - 1, -1, -1):
        suffix[index] = suffix[index + 1] + ordered[index][1]
    budget = [COMPOSE_BUDGET]

    def search(start: int, remaining: Decimal, chosen: tuple[str, ...]) -> tuple[str, ...] | None:
        if remaining == 0:
            return chosen
        if budget[0] <= 0 or suffix[start] < remaining:
            return None
        budget[0] -= 1
        for index in range(start, len(ordered)):
            ident, nominal = ordered[index]
            if nominal <= remaining:
                found = search(index + 1, remaining - nominal, (*chosen, ident))
                if found is not None:
                    return found
        return None

    return search(0, load_kg, ()) or ()


def weight_table(reference_weights: Iterable[Mapping[str, Any]]) -> list[tuple[str, Decimal]]:
    """``(id, nominal kg)`` of reference weights in record-file form (already validated by the record model)."""
    table = []
    for index, item in enumerate(reference_weights):
        ident = item.get("id")
        if not isinstance(ident, str):
            raise InputError(f"reference_weights[{index}].id", "expected text")
        table.append((ident, parse_load(item.get("nominal"), f"reference_weights[{index}].nominal")))
    return table


_LIMIT_NAMES = {
    Check.ERROR: "MPE",
    Check.SPREAD: "|MPE|",
    Check.CHANGE: "d",
    Check.ZERO_DEVIATION: "0.25 e",
    Check.TEST_LOAD: "lowest load allowed",
    Check.WEIGHTS: "MPE/3",
}


def live_from_point(test: str, point: PointResult) -> LiveResult:
    """An R 76 check as a live result."""
    if point.check is Check.ERROR:
        quantity = "Ec" if point.corrected_error_kg is not None else "E"
    else:
        quantity = str(point.check.value)
    value = point.value_kg
    if value is None:
        value = point.assessed_error_kg if point.assessed_error_kg is not None else Decimal(0)
    return LiveResult(
        test=test,
        label=point.label,
        load_kg=point.load_kg,
        quantity=quantity,
        value_kg=value,
        limit_name=_LIMIT_NAMES.get(point.check, "limit"),
        limit_kg=point.limit_kg if point.limit_kg is not None else point.mpe_kg,
        passed=point.passed,
        message=point.message,
    )


def unevaluated(test: str, reason: str) -> LiveResult:
    """A live result saying that the partial record could not be evaluated (and why).

    >>> unevaluated("calibration", "too few points").message
    'the partial record could not be evaluated: too few points'
    """
    return LiveResult(
        test=test,
        label="",
        load_kg=Decimal(0),
        quantity="evaluation",
        value_kg=Decimal(0),
        limit_name="",
        limit_kg=None,
        passed=None,
        message=f"the partial record could not be evaluated: {reason}",
    )
