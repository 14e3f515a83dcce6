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

``weight_added_on_key``
    a key press raised the gross indication by at least one e, and within ``window_s`` before it at least
    ``repeats`` - 1 other key presses raised it by the same amount (within e / 2).  Cheat firmware opened by a password
    adds a fixed weight per key press: "500 g shows 550, then 600" (reference notes s.2,
    http://casic-gx.com/talking/20240603/ff4c7915574240749bf47fcc7d439c83/c.html).  A vendor adding goods while
    pressing a key also raises the gross, by an amount that varies; requiring the same step again is what tells the
    two apart (this project's rule; defaults 2 presses within 1 h).  Reported once per ``window_s``.
``zero_offset_step``
    the zero point (``zero_setting`` events: its offset from the calibration zero) moved by at least ``zero_step_e``
    e from the previous zero-setting.  A stored offset (底数, reference notes s.2,
    http://www.aceofjoy.com/meitibaodao/187.html) is a zero point set away from the empty platform's reading, so that
    every weighing reads high (zero set low) or low; zero drift moves the zero point slowly, by far less than 4 e
    between two daily zero-settings on the instruments seen so far (this project's threshold; the zero-setting
    device rules of OIML R 76-1:2006 4.5 were recalled, not read, and give no figure for this).

Both need the ``key_press`` and ``zero_setting`` records of the telemetry format; a scale that does not send them is
not covered by these two rules (``docs/detectors.md``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hengqi.supervision.detectors import Finding
from hengqi.supervision.telemetry import KeyPress, TelemetryEvent, Transaction, ZeroSetting

NAME = "retail"
PRICE = "OIML R 76-1:2006 4.14 price-computing instruments (recalled, not read)"
KEY = "field.md s.2: cheat firmware adds weight per key press (casic-gx.com 20240603)"
OFFSET = "field.md s.2: stored offset (aceofjoy.com 187); OIML R 76-1:2006 4.5 zero-setting (recalled, not read)"


@dataclass(frozen=True, slots=True)
class RetailContext:
    """The price interval (currency units), the verification scale interval and the key and zero rule parameters."""

    price_interval: Decimal = Decimal("0.01")
    e_kg: Decimal = Decimal("0.005")
    window_s: float = 3600.0
    repeats: int = 2
    zero_step_e: Decimal = Decimal(4)


@dataclass(frozen=True, slots=True)
class RetailState:
    """Transactions seen; recent key-press steps (time, seq, kg); the last zero offset; the last key alarm."""

    transactions: int = 0
    steps: tuple[tuple[str, int, str], ...] = ()
    zero_kg: str | None = None
    zero_seq: int | None = None
    fired_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "transactions": self.transactions,
            "steps": [list(x) for x in self.steps],
            "zero_kg": self.zero_kg,
            "zero_seq": self.zero_seq,
            "fired_at": self.fired_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RetailState:
        return cls(
            int(data.get("transactions", 0)),
            tuple((str(t), int(q), str(k)) for t, q, k in data.get("steps", [])),
            data.get("zero_kg"),
            data.get("zero_seq"),
            data.get("fired_at"),
        )


def _finding(
    event: TelemetryEvent,
    rule: str,
    threshold: str,
    observed: str,
    message: str,
    *,
    source: str = PRICE,
    seqs: tuple[int, ...] = (),
    excerpt: tuple[float, ...] = (),
    **details: Any,
) -> Finding:
    return Finding(
        instrument=event.instrument,
        detector=NAME,
        rule=rule,
        time=event.time,
        seqs=seqs or (event.seq,),
        threshold=threshold,
        observed=observed,
        source=source,
        message=message,
        excerpt=excerpt,
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
    for event in events:
        body = event.body
        if isinstance(body, Transaction):
            state = replace(state, transactions=state.transactions + 1)
            found.extend(_transaction(event, body, ctx))
        elif isinstance(body, KeyPress):
            state, finding = _key(state, event, body, ctx)
            if finding is not None:
                found.append(finding)
        elif isinstance(body, ZeroSetting):
            state, finding = _zero(state, event, body, ctx)
            if finding is not None:
                found.append(finding)
    return state, tuple(found)


def _transaction(event: TelemetryEvent, body: Transaction, ctx: RetailContext) -> list[Finding]:
    found: list[Finding] = []
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
    return found


def _key(
    state: RetailState, event: TelemetryEvent, body: KeyPress, ctx: RetailContext
) -> tuple[RetailState, Finding | None]:
    step = body.gross_after_kg - body.gross_before_kg
    if step < ctx.e_kg:
        return state, None
    now = event.time
    horizon = now - timedelta(seconds=ctx.window_s)
    # keep the steps inside the window; a step stamped later than this one (clock skew) is kept, not trusted to
    # order anything
    recent = tuple(x for x in state.steps if datetime.fromisoformat(x[0]) >= horizon)
    recent = (*recent, (now.isoformat(), event.seq, str(step)))[-50:]
    same = [x for x in recent if abs(Decimal(x[2]) - step) <= ctx.e_kg / 2]
    state = replace(state, steps=recent)
    if len(same) < ctx.repeats:
        return state, None
    if state.fired_at is not None and datetime.fromisoformat(state.fired_at) >= horizon:
        return state, None
    finding = _finding(
        event,
        "weight_added_on_key",
        f">= {ctx.repeats} key presses within {ctx.window_s:g} s each adding the same step >= e = {ctx.e_kg} kg",
        f"{len(same)} presses of {body.key!r} each added {step} kg (last {body.gross_before_kg} -> "
        f"{body.gross_after_kg} kg)",
        f"the gross rose by the same {step} kg at {len(same)} key presses",
        source=KEY,
        seqs=tuple(x[1] for x in same),
        excerpt=tuple(float(x[2]) for x in same),
        key=body.key,
        step_kg=str(step),
        presses=len(same),
    )
    return replace(state, fired_at=now.isoformat()), finding


def _zero(
    state: RetailState, event: TelemetryEvent, body: ZeroSetting, ctx: RetailContext
) -> tuple[RetailState, Finding | None]:
    finding = None
    limit = ctx.zero_step_e * ctx.e_kg
    if state.zero_kg is not None:
        before = Decimal(state.zero_kg)
        move = body.offset_kg - before
        if abs(move) >= limit:
            effect = "weighings read high" if move < 0 else "weighings read low"
            finding = _finding(
                event,
                "zero_offset_step",
                f"|zero point change| < {ctx.zero_step_e} e = {limit} kg",
                f"zero point {before} -> {body.offset_kg} kg ({body.source}): {move:+} kg",
                f"zero point moved by {move:+} kg at a {body.source} zero-setting: {effect}",
                source=OFFSET,
                seqs=(event.seq,) if state.zero_seq is None else (state.zero_seq, event.seq),
                excerpt=(float(before), float(body.offset_kg)),
                before_kg=str(before),
                after_kg=str(body.offset_kg),
                zero_source=body.source,
            )
    return replace(state, zero_kg=str(body.offset_kg), zero_seq=event.seq), finding
