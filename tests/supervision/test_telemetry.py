"""The telemetry model: validation, the committed JSON Schema, mapping to Sparkplug metrics and back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hengqi.supervision.errors import TelemetryError
from hengqi.supervision.mapping import events_from_payload, payload_from_events
from hengqi.supervision.sparkplug import DataType, Metric, Payload, decode_payload, encode_payload
from hengqi.supervision.telemetry import (
    EVENT_KINDS,
    CheckWeighing,
    Counter,
    Counters,
    EventLogEntry,
    Heartbeat,
    Identity,
    KeyPress,
    Passage,
    StateEvent,
    TelemetryEvent,
    Transaction,
    ZeroSetting,
    parse_event,
    schema_text,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def all_kinds() -> list[TelemetryEvent]:
    bodies: list[Any] = [
        Identity(
            production_code="P-1",
            repair_code="R-2",
            verification_code="V-3",
            seal_id="S-4",
            software_id="FW 2.1",
            software_checksum="A1B2C3D4",
        ),
        Counters(calibration=Counter(value=999, modulus=1000), configuration=Counter(value=12, modulus=99999 + 1)),
        EventLogEntry(counter=7, parameter_id="CAL.SPAN", changed_at=T0, old_value="1.0002", new_value="1.0000"),
        StateEvent(state="unlock", actor="inspector 17", detail="dynamic password"),
        Transaction(
            gross_kg=Decimal("1.255"),
            tare_kg=Decimal("0.005"),
            net_kg=Decimal("1.250"),
            unit_price=Decimal("12.80"),
            price=Decimal("16.00"),
        ),
        Passage(
            plate="陕A12345",
            rate_hz=10,
            curve_kg=[0.0, 5000.0, 30000.5],
            cells_kg=[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]],
            gross_kg=Decimal("30000"),
            tare_kg=Decimal("12000"),
            net_kg=Decimal("18000"),
        ),
        CheckWeighing(weight_id="M1-20kg-03", nominal_kg=Decimal("20"), indication_kg=Decimal("20.005")),
        Heartbeat(uptime_s=12.5, queue_depth=3, clock_offset_s=-0.25),
        KeyPress(key="F3", gross_before_kg=Decimal("0.500"), gross_after_kg=Decimal("0.550")),
        ZeroSetting(source="power_on", offset_kg=Decimal("-0.0500")),
    ]
    return [
        TelemetryEvent(instrument="SC-0001", seq=i, time=T0 + timedelta(milliseconds=i), body=b)
        for i, b in enumerate(bodies)
    ]


def test_every_kind_is_covered_and_round_trips_through_sparkplug() -> None:
    events = all_kinds()
    assert {e.kind for e in events} == set(EVENT_KINDS)
    data = encode_payload(payload_from_events(events, seq=4, timestamp=0))
    back = events_from_payload("SC-0001", decode_payload(data))
    assert back == tuple(events)
    assert [e.canonical_json() for e in back] == [e.canonical_json() for e in events]


def test_committed_schema_is_current() -> None:
    committed = (ROOT / "docs" / "schemas" / "field-telemetry.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text()
    schema = json.loads(committed)
    assert set(schema["$defs"]) >= {"Identity", "Counters", "Passage", "Heartbeat"}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"seq": -1}, "event.seq"),
        ({"seq": 2**63}, "event.seq"),
        ({"instrument": "a/b"}, "event.instrument"),
        ({"instrument": ""}, "event.instrument"),
        ({"time": "2026-01-01T00:00:00"}, "event.time"),
        ({"body": {"kind": "nope"}}, "event.body"),
        ({"body": {"kind": "transaction", "gross_kg": "NaN", "net_kg": "1"}}, "event.body.gross_kg"),
        ({"body": {"kind": "transaction", "gross_kg": "1", "net_kg": "1", "x": 1}}, "event.body.x"),
        (
            {
                "body": {
                    "kind": "counters",
                    "calibration": {"value": 1000, "modulus": 1000},
                    "configuration": {"value": 0},
                }
            },
            "event.body.calibration",
        ),
        (
            {"body": {"kind": "counters", "calibration": {"value": 1, "modulus": 500}, "configuration": {"value": 0}}},
            "event.body.calibration",
        ),
        (
            {"body": {"kind": "passage", "rate_hz": 5, "curve_kg": [1.0], "gross_kg": 1, "net_kg": 1}},
            "event.body.rate_hz",
        ),
        (
            {
                "body": {
                    "kind": "passage",
                    "rate_hz": 10,
                    "curve_kg": [1.0],
                    "cells_kg": [[1.0, 2.0]],
                    "gross_kg": 1,
                    "net_kg": 1,
                }
            },
            "event.body",
        ),
        (
            {
                "body": {
                    "kind": "event_log",
                    "counter": 1000,
                    "parameter_id": "p",
                    "changed_at": "2026-01-01T00:00:00Z",
                    "new_value": "1",
                }
            },
            "event.body.counter",
        ),
        ({"body": {"kind": "state", "state": "case_opened", "actor": "x" * 201}}, "event.body.actor"),
        ({"body": {"kind": "identity", "software_checksum": "not hex"}}, "event.body.software_checksum"),
    ],
)
def test_bad_events_name_the_field(change: dict[str, Any], path: str) -> None:
    data: dict[str, Any] = {
        "instrument": "SC-1",
        "seq": 0,
        "time": "2026-01-01T00:00:00Z",
        "body": {"kind": "heartbeat"},
    }
    data.update(change)
    with pytest.raises(TelemetryError) as info:
        parse_event(data)
    assert info.value.path.startswith(path), info.value.path
    assert info.value.reason_class == "malformed"


def test_time_is_normalised_to_utc() -> None:
    east8 = timezone(timedelta(hours=8))
    event = TelemetryEvent(instrument="A", seq=0, time=datetime(2026, 1, 1, 8, tzinfo=east8), body=Heartbeat())
    assert event.time == datetime(2026, 1, 1, tzinfo=UTC)
    assert event.time.utcoffset() == timedelta(0)


def _ddata(*metrics: Metric) -> Payload:
    return Payload(timestamp=0, seq=1, metrics=metrics)


SEQ = Metric("hengqi/seq", DataType.UINT64, 1, timestamp=1)
KIND = Metric("hengqi/kind", DataType.STRING, "heartbeat")


@pytest.mark.parametrize(
    "payload",
    [
        _ddata(),
        _ddata(KIND),
        _ddata(Metric("hengqi/seq", DataType.UINT64, 1), KIND),  # no timestamp
        _ddata(SEQ),
        _ddata(SEQ, KIND, Metric("transaction/net_kg", DataType.STRING, "1")),
        _ddata(
            SEQ,
            KIND,
            Metric("heartbeat/uptime_s", DataType.DOUBLE, 1.0),
            Metric("heartbeat/uptime_s", DataType.DOUBLE, 1.0),
        ),
        _ddata(SEQ, KIND, Metric("heartbeat/queue_depth", DataType.STRING, "many")),
        _ddata(
            SEQ, Metric("hengqi/kind", DataType.STRING, "passage"), Metric("passage/curve_kg", DataType.BYTES, b"123")
        ),
        _ddata(
            SEQ, Metric("hengqi/kind", DataType.STRING, "passage"), Metric("passage/cells_kg/1", DataType.BYTES, b"")
        ),
        _ddata(
            SEQ, Metric("hengqi/kind", DataType.STRING, "passage"), Metric("passage/cells_kg/x", DataType.BYTES, b"")
        ),
    ],
)
def test_malformed_event_payloads_are_refused(payload: Payload) -> None:
    with pytest.raises(TelemetryError) as info:
        events_from_payload("SC-1", decode_payload(encode_payload(payload)))
    assert info.value.reason_class == "malformed"


masses = st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e6"), places=3, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(
    seq=st.integers(0, 2**63 - 1),
    ms=st.integers(0, 2**42),
    gross=masses,
    tare=masses,
    curve=st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=40),
)
def test_mapping_round_trip_property(seq: int, ms: int, gross: Decimal, tare: Decimal, curve: list[float]) -> None:
    time = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    events = [
        TelemetryEvent(
            instrument="X", seq=seq, time=time, body=Transaction(gross_kg=gross, tare_kg=tare, net_kg=gross - tare)
        ),
        TelemetryEvent(
            instrument="X",
            seq=seq,
            time=time,
            body=Passage(rate_hz=50, curve_kg=curve, cells_kg=[curve, curve], gross_kg=gross, net_kg=gross),
        ),
    ]
    back = events_from_payload("X", decode_payload(encode_payload(payload_from_events(events, seq=0, timestamp=ms))))
    assert back == tuple(events)
