"""Seal detector: broken electronic seals, unapproved software, case opened or unlocked outside a work order.

Rules (each finding names its rule):

``counter_without_work_order``
    the calibration or configuration event counter moved (wrap-around and resets read by
    :func:`hengqi.supervision.counters.counter_change`) at a time no authorised work order covers.  NIST Handbook 44
    sealing Category 1/2: the event counters are the audit trail of sealable parameters (recalled, not read here);
    Ohaus: "a change to an event counter value is equivalent to breaking a physical seal" (manual cited in
    ``docs/field.md``).  A reset is always reported, even inside a work order, because a counter that is set back
    no longer proves anything (this project's rule).
``parameter_change_without_work_order``
    a Category 3 event-logger entry (HB 44: counter, parameter id, date and time, new value) outside any work order.
``software_not_approved``
    the legally relevant software id or checksum differs from the type approval (OIML D 31:2019 software
    identification; WELMEC 7.2 (2023) requirement blocks; WELMEC 2.3 checklist "checksum over the program modules").
    Where the approval's values are not given, the first identity the instrument reports is taken as approved
    (trust on first use; stated in the finding).
``case_opened`` / ``unlock_without_work_order``
    the case was opened, or the self-lock released, outside a work order (JJG 1204-2025 6.4 self-lock: only
    authorised staff unlock, with a dynamic password; text summarised in /work/shared/reference/field.md).

``tolerance_s`` widens each work order on both sides to absorb clock skew between the instrument and the
work-order system (default 120 s, this project's choice).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from hengqi.supervision.counters import counter_change
from hengqi.supervision.detectors import Finding
from hengqi.supervision.telemetry import Counters, EventLogEntry, Identity, StateEvent, TelemetryEvent

NAME = "seal"
HB44 = "NIST HB 44 sealing Categories 1-3 (event counters / event logger; recalled, not read)"
SOFTWARE = "OIML D 31:2019 software identification; WELMEC 7.2 (2023); WELMEC 2.3 checklist"
SELF_LOCK = "JJG 1204-2025 6.4 self-lock (summarised in reference notes)"


@dataclass(frozen=True, slots=True)
class WorkOrderWindow:
    """An authorised intervention on the instrument: changes between ``opened_at`` and ``closed_at`` are covered."""

    opened_at: datetime
    closed_at: datetime
    authorised_by: str = ""


@dataclass(frozen=True, slots=True)
class SealContext:
    """What the detector compares against: work orders, the type approval's software id and checksum."""

    work_orders: tuple[WorkOrderWindow, ...] = ()
    approved_software_id: str | None = None
    approved_checksum: str | None = None
    tolerance_s: float = 120.0

    def covered(self, time: datetime) -> bool:
        """True when a work order (widened by ``tolerance_s``) covers ``time``."""
        slack = timedelta(seconds=self.tolerance_s)
        return any(w.opened_at - slack <= time <= w.closed_at + slack for w in self.work_orders)


@dataclass(frozen=True, slots=True)
class SealState:
    """Last counter readings (None before the first) and the software identity taken as approved."""

    calibration: int | None = None
    configuration: int | None = None
    modulus: int | None = None
    software_id: str | None = None
    checksum: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "calibration": self.calibration,
            "configuration": self.configuration,
            "modulus": self.modulus,
            "software_id": self.software_id,
            "checksum": self.checksum,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SealState:
        return cls(**{k: data.get(k) for k in ("calibration", "configuration", "modulus", "software_id", "checksum")})


def _finding(  # noqa: PLR0917 (private: one positional per evidence field)
    event: TelemetryEvent, rule: str, threshold: str, observed: str, source: str, message: str, **details: Any
) -> Finding:
    return Finding(
        instrument=event.instrument,
        detector=NAME,
        rule=rule,
        time=event.time,
        seqs=(event.seq,),
        threshold=threshold,
        observed=observed,
        source=source,
        message=message,
        details=tuple((k, json.dumps(v) if not isinstance(v, str) else v) for k, v in sorted(details.items())),
    )


def _counters(
    state: SealState, event: TelemetryEvent, body: Counters, context: SealContext
) -> tuple[SealState, list[Finding]]:
    found: list[Finding] = []
    modulus = body.calibration.modulus
    if state.modulus == modulus and state.calibration is not None and state.configuration is not None:
        for name, before, now in (
            ("calibration", state.calibration, body.calibration.value),
            ("configuration", state.configuration, body.configuration.value),
        ):
            change = counter_change(before, now, modulus)
            if not change.changed:
                continue
            if change.reset or not context.covered(event.time):
                what = (
                    "reset"
                    if change.reset
                    else f"{change.steps} change(s)" + (" across wrap" if change.wrapped else "")
                )
                found.append(
                    _finding(
                        event,
                        "counter_without_work_order",
                        "any change outside a work order; any reset",
                        f"{name} {before} -> {now} (mod {modulus}): {what}",
                        HB44,
                        f"{name} event counter moved {before} -> {now} ({what}) with no work order covering it",
                        counter=name,
                        before=before,
                        after=now,
                        modulus=modulus,
                        steps=change.steps,
                        wrapped=change.wrapped,
                        reset=change.reset,
                    )
                )
    elif state.modulus is not None and state.modulus != modulus:
        found.append(
            _finding(
                event,
                "counter_without_work_order",
                "counter modulus unchanged",
                f"modulus {state.modulus} -> {modulus}",
                HB44,
                f"event counter modulus changed {state.modulus} -> {modulus}: counter board replaced",
                before_modulus=state.modulus,
                after_modulus=modulus,
            )
        )
    new = replace(state, calibration=body.calibration.value, configuration=body.configuration.value, modulus=modulus)
    return new, found


def detect(
    state: SealState, events: Iterable[TelemetryEvent], context: SealContext | None = None
) -> tuple[SealState, tuple[Finding, ...]]:
    """Run the seal rules over one instrument's events (in seq order); see the module docstring.

    >>> from datetime import UTC, datetime
    >>> from hengqi.supervision.telemetry import Counter
    >>> t = datetime(2026, 1, 5, tzinfo=UTC)
    >>> def c(seq, cal): return TelemetryEvent(instrument="A", seq=seq, time=t, body=Counters(
    ...     calibration=Counter(value=cal), configuration=Counter(value=0)))
    >>> state, found = detect(SealState(), [c(0, 999), c(1, 0)])
    >>> [(f.rule, f.observed) for f in found]
    [('counter_without_work_order', 'calibration 999 -> 0 (mod 1000): 1 change(s) across wrap')]
    """
    ctx = context or SealContext()
    found: list[Finding] = []
    for event in events:
        body = event.body
        if isinstance(body, Counters):
            state, new = _counters(state, event, body, ctx)
            found.extend(new)
        elif isinstance(body, EventLogEntry):
            if not ctx.covered(event.time):
                found.append(
                    _finding(
                        event,
                        "parameter_change_without_work_order",
                        "any logged change outside a work order",
                        f"{body.parameter_id}: {body.old_value!r} -> {body.new_value!r}",
                        HB44,
                        f"sealable parameter {body.parameter_id} changed (log counter {body.counter}), no work order",
                        parameter_id=body.parameter_id,
                        log_counter=body.counter,
                        changed_at=body.changed_at.isoformat(),
                    )
                )
        elif isinstance(body, Identity) and (body.software_id or body.software_checksum):
            approved_id = ctx.approved_software_id or state.software_id
            approved_sum = ctx.approved_checksum or state.checksum
            if approved_id is None and approved_sum is None:
                state = replace(state, software_id=body.software_id, checksum=body.software_checksum.upper())
                continue
            basis = "type approval" if ctx.approved_checksum or ctx.approved_software_id else "first report (TOFU)"
            differs = []
            if approved_id is not None and body.software_id != approved_id:
                differs.append(f"id {approved_id!r} -> {body.software_id!r}")
            if approved_sum is not None and body.software_checksum.upper() != approved_sum.upper():
                differs.append(f"checksum {approved_sum.upper()} -> {body.software_checksum.upper()}")
            if differs:
                found.append(
                    _finding(
                        event,
                        "software_not_approved",
                        f"equal to the {basis}",
                        "; ".join(differs),
                        SOFTWARE,
                        f"legally relevant software differs from the {basis}: " + "; ".join(differs),
                        basis=basis,
                    )
                )
        elif isinstance(body, StateEvent) and body.state in ("case_opened", "unlock") and not ctx.covered(event.time):
            rule = "case_opened" if body.state == "case_opened" else "unlock_without_work_order"
            who = f" by {body.actor!r}" if body.actor else ""
            found.append(
                _finding(
                    event,
                    rule,
                    "only within a work order",
                    f"{body.state}{who} {body.detail}".strip(),
                    SELF_LOCK,
                    f"{body.state.replace('_', ' ')}{who} with no work order",
                    actor=body.actor,
                    detail=body.detail,
                )
            )
    return state, tuple(found)
