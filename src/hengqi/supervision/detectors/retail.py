"""Retail (price-computing) scale detector: transactions whose net or price does not follow from the weighing.

Rules:

``net_inconsistent``
    net differs from gross - tare (exact decimals; any difference).
``price_inconsistent``
    price differs from the exact net x unit price by more than half the price interval (0.01), so any rounding to
    the nearest price interval passes, ties included.
    A price-computing instrument prints the price as weight x unit price rounded to the nearest price interval
    (OIML R 76-1:2006 4.14, recalled, not read here); a shifted decimal point of the unit price (field.md
    section 2, http://www.aceofjoy.com/meitibaodao/187.html) or firmware that adds weight after the price is
    computed both break that identity.

What this detector cannot see: cheat firmware that adds a fixed weight per key press and a stored offset (底数) both
move the gross itself, so net, tare and price stay mutually consistent.  Seeing them needs a signal the telemetry
format does not carry (key presses, the raw zero reading) or a check-weighing while the trick is active, which the
drift detector reads.  ``docs/detectors.md`` reports the measured recall (zero on the simulator's field) rather
than a rule that would only fit the simulator.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hengqi.supervision.detectors import Finding
from hengqi.supervision.telemetry import TelemetryEvent, Transaction

NAME = "retail"
PRICE = "OIML R 76-1:2006 4.14 price-computing instruments (recalled, not read)"


@dataclass(frozen=True, slots=True)
class RetailContext:
    """The price interval (currency units)."""

    price_interval: Decimal = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class RetailState:
    """The retail rules need no memory; the count of transactions seen is kept for the record."""

    transactions: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"transactions": self.transactions}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RetailState:
        return cls(int(data.get("transactions", 0)))


def _finding(event: TelemetryEvent, rule: str, threshold: str, observed: str, message: str, **details: Any) -> Finding:
    return Finding(
        instrument=event.instrument,
        detector=NAME,
        rule=rule,
        time=event.time,
        seqs=(event.seq,),
        threshold=threshold,
        observed=observed,
        source=PRICE,
        message=message,
        details=tuple((k, v if isinstance(v, str) else json.dumps(v)) for k, v in sorted(details.items())),
    )


def detect(
    state: RetailState, events: Iterable[TelemetryEvent], context: RetailContext | None = None
) -> tuple[RetailState, tuple[Finding, ...]]:
    """Run the retail rules over one instrument's transactions.

    >>> from datetime import UTC, datetime
    >>> t = Transaction(gross_kg=Decimal("1.250"), net_kg=Decimal("1.250"), unit_price=Decimal("8.00"),
    ...     price=Decimal("100.00"))
    >>> ev = TelemetryEvent(instrument="SC", seq=3, time=datetime(2026, 1, 5, tzinfo=UTC), body=t)
    >>> [f.observed for f in detect(RetailState(), [ev])[1]]
    ['price 100.00, expected 1.250 x 8.00 = 10.00']
    """
    ctx = context or RetailContext()
    found: list[Finding] = []
    seen = state.transactions
    for event in events:
        body = event.body
        if not isinstance(body, Transaction):
            continue
        seen += 1
        if body.gross_kg - body.tare_kg != body.net_kg:
            found.append(
                _finding(
                    event,
                    "net_inconsistent",
                    "net = gross - tare exactly",
                    f"net {body.net_kg} vs {body.gross_kg} - {body.tare_kg}",
                    "net does not equal gross minus tare",
                    gross=str(body.gross_kg),
                    tare=str(body.tare_kg),
                    net=str(body.net_kg),
                )
            )
        if body.price is not None and body.unit_price is not None:
            exact = body.net_kg * body.unit_price
            expected = (exact / ctx.price_interval).quantize(Decimal(1), rounding=ROUND_HALF_UP) * ctx.price_interval
            if abs(body.price - exact) > ctx.price_interval / 2:  # either rounding direction at a tie passes
                found.append(
                    _finding(
                        event,
                        "price_inconsistent",
                        f"|price - net x unit price| <= {ctx.price_interval / 2}",
                        f"price {body.price}, expected {body.net_kg} x {body.unit_price} = {expected}",
                        "printed price does not follow from net and unit price",
                        price=str(body.price),
                        expected=str(expected),
                    )
                )
    return RetailState(seen), tuple(found)
