"""Running every detector over one instrument's events, with its profile (kind, specification, work orders).

:func:`run_instrument` is what an engine calls per instrument and batch: the states go in and come out
(:class:`DetectorStates`, JSON round-trip), findings are returned in event order per detector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hengqi.metrology.classes import InstrumentSpecification
from hengqi.supervision.detectors import Finding, availability, drift, retail, seal, weighbridge
from hengqi.supervision.detectors.evaluation import Incident
from hengqi.supervision.fieldsim import FieldData
from hengqi.supervision.telemetry import TelemetryEvent

DETECTORS: tuple[str, ...] = ("seal", "weighbridge", "retail", "drift", "availability")
SITE_KINDS: tuple[str, ...] = ("market", "weighbridge")


@dataclass(frozen=True, slots=True)
class InstrumentProfile:
    """What the detectors need to know about one instrument besides its events."""

    instrument: str
    site_kind: str
    max_kg: str
    e_kg: str
    accuracy_class: str = "III"
    work_orders: tuple[seal.WorkOrderWindow, ...] = ()
    approved_software_id: str | None = None
    approved_checksum: str | None = None

    def spec(self) -> InstrumentSpecification:
        return InstrumentSpecification.create(
            accuracy_class=self.accuracy_class, max=f"{self.max_kg} kg", e=f"{self.e_kg} kg"
        )


@dataclass(frozen=True, slots=True)
class DetectorStates:
    """The detector states of one instrument."""

    seal: seal.SealState = field(default_factory=seal.SealState)
    weighbridge: weighbridge.WeighbridgeState = field(default_factory=weighbridge.WeighbridgeState)
    retail: retail.RetailState = field(default_factory=retail.RetailState)
    drift: drift.DriftState = field(default_factory=drift.DriftState)
    availability: availability.AvailabilityState = field(default_factory=availability.AvailabilityState)

    def to_json(self) -> dict[str, Any]:
        return {
            "seal": self.seal.to_json(),
            "weighbridge": self.weighbridge.to_json(),
            "retail": self.retail.to_json(),
            "drift": self.drift.to_json(),
            "availability": self.availability.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DetectorStates:
        return cls(
            seal.SealState.from_json(data.get("seal", {})),
            weighbridge.WeighbridgeState.from_json(data.get("weighbridge", {})),
            retail.RetailState.from_json(data.get("retail", {})),
            drift.DriftState.from_json(data.get("drift", {})),
            availability.AvailabilityState.from_json(data.get("availability", {})),
        )


def run_instrument(
    profile: InstrumentProfile, events: Sequence[TelemetryEvent], states: DetectorStates | None = None
) -> tuple[DetectorStates, tuple[Finding, ...]]:
    """Every applicable detector over ``events`` (one instrument, seq order); the seal, drift and availability
    detectors run on every instrument, the weighbridge or the retail detector by site kind."""
    st = states or DetectorStates()
    mine = [e for e in events if e.instrument == profile.instrument]
    found: list[Finding] = []
    seal_ctx = seal.SealContext(profile.work_orders, profile.approved_software_id, profile.approved_checksum)
    seal_state, out = seal.detect(st.seal, mine, seal_ctx)
    found.extend(out)
    wb_state, rt_state = st.weighbridge, st.retail
    if profile.site_kind == "weighbridge":
        wb_state, out = weighbridge.detect(wb_state, mine, weighbridge.WeighbridgeContext(e_kg=float(profile.e_kg)))
        found.extend(out)
    else:
        rt_state, out = retail.detect(rt_state, mine, retail.RetailContext(e_kg=Decimal(profile.e_kg)))
        found.extend(out)
    dr_state, out = drift.detect(st.drift, mine, drift.DriftContext(profile.spec()))
    found.extend(out)
    av_state, out = availability.detect(st.availability, mine)
    found.extend(out)
    return DetectorStates(seal_state, wb_state, rt_state, dr_state, av_state), tuple(found)


def profiles_from_field(data: FieldData) -> tuple[InstrumentProfile, ...]:
    """A profile per simulated instrument, with its work orders; the software approval is taken on first use
    (the simulator publishes no type-approval checksums)."""
    orders: dict[str, list[seal.WorkOrderWindow]] = {}
    for w in data.work_orders:
        orders.setdefault(w.instrument, []).append(seal.WorkOrderWindow(w.opened_at, w.closed_at, w.authorised_by))
    return tuple(
        InstrumentProfile(i.device_id, i.site_kind, i.max_kg, i.e_kg, work_orders=tuple(orders.get(i.device_id, ())))
        for i in data.instruments
    )


def incidents_from_field(data: FieldData) -> tuple[Incident, ...]:
    """The simulator's labels as incidents to score against."""
    return tuple(Incident(lb.instrument, lb.scenario, lb.start, lb.end, lb.seqs) for lb in data.labels)


def run_field(data: FieldData) -> tuple[Finding, ...]:
    """Every detector over every instrument of a simulated field (events grouped per instrument, seq order)."""
    events: dict[str, list[TelemetryEvent]] = {}
    for event in data.events:
        events.setdefault(event.instrument, []).append(event)
    found: list[Finding] = []
    for profile in profiles_from_field(data):
        mine = sorted(events.get(profile.instrument, ()), key=lambda e: e.seq)
        found.extend(run_instrument(profile, mine)[1])
    return tuple(found)
