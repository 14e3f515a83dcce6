"""Availability detector: an instrument offline for longer than T, and holes in its event sequence.

Rules:

``offline_longer_than``
    the time between two heartbeats exceeds ``offline_after_s`` (default 2 h, twice the simulator's and the agent's
    default heartbeat interval of 1 h; this project's choice).  Heartbeats are the agent's sign of life (Sparkplug B
    3.0.0: a node's birth and death and its ``seq`` show offline periods, reference notes s.4,
    https://docs.chariot.io/x/8YFpCw); data events alone do not prove the link was up, because the agent keeps them
    while offline and sends them later with their own times.  The reference is the latest heartbeat time seen, so a
    heartbeat stamped earlier than that (clock skew, a clock set back) opens no gap and closes none; the finding is
    raised at the first heartbeat after the gap, however long the gap was.
``sequence_gap``
    an event's ``seq`` is more than one above the previous event's: events were lost before they reached the
    platform (the agent's queue dropped its oldest when full; ``docs/field.md`` section 5).  A seq at or below the
    previous one (a re-delivered event; the ingest refuses replays) is ignored.  ``seq`` never wraps (it is an
    unsigned count below 2**63, ``hengqi.supervision.telemetry``), so a lower seq is never read as a wrap.

>>> from datetime import UTC, datetime, timedelta
>>> from hengqi.supervision.telemetry import Heartbeat, TelemetryEvent
>>> t = datetime(2026, 1, 5, tzinfo=UTC)
>>> evs = [TelemetryEvent(instrument="SC", seq=s, time=t + timedelta(hours=h), body=Heartbeat())
...        for s, h in ((0, 0), (1, 1), (4, 5))]
>>> [(f.rule, f.observed) for f in detect(AvailabilityState(), evs)[1]]
[('sequence_gap', 'seq 1 -> 4: 2 event(s) missing'), ('offline_longer_than', 'no heartbeat for 4.00 h')]
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from hengqi.supervision.detectors import Finding
from hengqi.supervision.telemetry import Heartbeat, TelemetryEvent

NAME = "availability"
HEARTBEAT = "Sparkplug B 3.0.0 birth/death and seq (reference notes s.4); heartbeat interval x 2 (project choice)"
SEQUENCE = "hengqi field telemetry seq: one more per event (docs/field.md s.1); agent queue drops (s.5)"


@dataclass(frozen=True, slots=True)
class AvailabilityContext:
    """``offline_after_s``: the longest silence between heartbeats that is not reported."""

    offline_after_s: float = 7200.0


@dataclass(frozen=True, slots=True)
class AvailabilityState:
    """The last seq seen and the latest heartbeat (time, seq)."""

    seq: int | None = None
    heartbeat_at: str | None = None
    heartbeat_seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "heartbeat_at": self.heartbeat_at, "heartbeat_seq": self.heartbeat_seq}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AvailabilityState:
        return cls(data.get("seq"), data.get("heartbeat_at"), data.get("heartbeat_seq"))


def _finding(  # noqa: PLR0917 (private: one positional per evidence field)
    event: TelemetryEvent,
    rule: str,
    threshold: str,
    observed: str,
    source: str,
    message: str,
    seqs: tuple[int, ...],
    **details: Any,
) -> Finding:
    return Finding(
        instrument=event.instrument,
        detector=NAME,
        rule=rule,
        time=event.time,
        seqs=seqs,
        threshold=threshold,
        observed=observed,
        source=source,
        message=message,
        details=tuple((k, v if isinstance(v, str) else json.dumps(v)) for k, v in sorted(details.items())),
    )


def detect(
    state: AvailabilityState, events: Iterable[TelemetryEvent], context: AvailabilityContext | None = None
) -> tuple[AvailabilityState, tuple[Finding, ...]]:
    """Run the availability rules over one instrument's events in seq order (see the module docstring)."""
    ctx = context or AvailabilityContext()
    found: list[Finding] = []
    for event in events:
        if state.seq is not None:
            if event.seq <= state.seq:
                continue
            if event.seq > state.seq + 1:
                missing = event.seq - state.seq - 1
                found.append(
                    _finding(
                        event,
                        "sequence_gap",
                        "each seq one more than the last",
                        f"seq {state.seq} -> {event.seq}: {missing} event(s) missing",
                        SEQUENCE,
                        f"{missing} event(s) never reached the platform (seq {state.seq + 1}..{event.seq - 1})",
                        (event.seq,),
                        before=state.seq,
                        after=event.seq,
                        missing=missing,
                    )
                )
        state = replace(state, seq=event.seq)
        if not isinstance(event.body, Heartbeat):
            continue
        if state.heartbeat_at is None:
            state = replace(state, heartbeat_at=event.time.isoformat(), heartbeat_seq=event.seq)
            continue
        last = datetime.fromisoformat(state.heartbeat_at)
        gap = (event.time - last).total_seconds()
        if gap <= 0:
            continue  # stamped at or before the latest heartbeat: clock skew, not a sign of life to measure from
        if gap > ctx.offline_after_s:
            found.append(
                _finding(
                    event,
                    "offline_longer_than",
                    f"heartbeat gap <= {ctx.offline_after_s / 3600:g} h",
                    f"no heartbeat for {gap / 3600:.2f} h",
                    HEARTBEAT,
                    f"no heartbeat from {last.isoformat()} to {event.time.isoformat()} ({gap / 3600:.2f} h)",
                    (event.seq,),
                    since=last.isoformat(),
                    gap_s=round(gap, 3),
                    previous_seq=state.heartbeat_seq,
                )
            )
        state = replace(state, heartbeat_at=event.time.isoformat(), heartbeat_seq=event.seq)
    return state, tuple(found)
