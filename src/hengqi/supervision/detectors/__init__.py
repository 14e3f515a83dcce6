"""Open tampering and drift detectors for field instruments: pure functions of ``(state, events) -> (state, findings)``.

Each detector module (:mod:`.seal`, :mod:`.weighbridge`, :mod:`.retail`, :mod:`.drift`) has a ``detect`` function
that consumes one instrument's :class:`~hengqi.supervision.telemetry.TelemetryEvent` s in seq order, with the state
it returned last time, and returns the new state and the :class:`Finding` s.  No I/O: the same function runs
embedded (one process over a database) or in a distributed engine that persists the state between batches.  States
are frozen dataclasses that round-trip through JSON (``to_json`` / ``from_json``).

A :class:`Finding` carries its evidence: the rule that fired, the threshold and the observed value (as text, exact),
the event seqs, a plot-ready excerpt (samples and their rate) and the document or source the rule rests on.  The
thresholds are this project's choices, measured on the field simulator (``bench/bench_detectors.py``,
``docs/detectors.md``); no published detection or false-alarm rate exists for weighbridge cheating
(``/work/shared/reference/field.md`` section 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Finding"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule firing on one instrument, with the evidence a regulator needs to judge it."""

    instrument: str
    detector: str
    rule: str
    time: datetime
    seqs: tuple[int, ...]
    threshold: str
    observed: str
    source: str
    message: str
    excerpt: tuple[float, ...] = ()
    excerpt_rate_hz: float | None = None
    details: tuple[tuple[str, str], ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (times in ISO 8601)."""
        return {
            "instrument": self.instrument,
            "detector": self.detector,
            "rule": self.rule,
            "time": self.time.isoformat(),
            "seqs": list(self.seqs),
            "threshold": self.threshold,
            "observed": self.observed,
            "source": self.source,
            "message": self.message,
            "excerpt": list(self.excerpt),
            "excerpt_rate_hz": self.excerpt_rate_hz,
            "details": dict(self.details),
        }
