"""The ingest's fast path (:func:`records_from_payload`) against the model (:func:`events_from_payload` and
:func:`record_of`): the same records, byte for byte, for every event it accepts, and the same error for every event
it does not, on a corpus of good and bad plain events and on generated ones."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hengqi.supervision.errors import TelemetryError
from hengqi.supervision.mapping import (
    KIND_METRIC,
    SEQ_METRIC,
    events_from_payload,
    payload_from_events,
    records_from_payload,
)
from hengqi.supervision.sparkplug import DataType, Metric, Payload, decode_payload, encode_payload
from hengqi.supervision.telemetry import (
    CheckWeighing,
    EventRecord,
    KeyPress,
    TelemetryEvent,
    Transaction,
    ms_from_utc,
    record_of,
)

T0_MS = ms_from_utc(datetime(2026, 12, 7, 8, 0, tzinfo=UTC))


def metric(name: str, value: Any) -> Metric:
    if value is None:
        return Metric(name, DataType.STRING, None)
    if isinstance(value, bool):
        return Metric(name, DataType.BOOLEAN, value)
    if isinstance(value, int):
        return Metric(name, DataType.INT64, value)
    if isinstance(value, float):
        return Metric(name, DataType.DOUBLE, value)
    return Metric(name, DataType.STRING, value)


def payload(*events: tuple[str, dict[str, Any]], seq: Any = 7, ms: int | None = T0_MS) -> Payload:
    metrics: list[Metric] = []
    for i, (kind, fields) in enumerate(events):
        metrics.append(Metric(SEQ_METRIC, DataType.UINT64, seq + i if type(seq) is int else seq, timestamp=ms))
        metrics.append(metric(KIND_METRIC, kind))
        metrics += [metric(f"{kind}/{name}", value) for name, value in fields.items()]
    # through the wire format, as the ingest receives it
    return decode_payload(encode_payload(Payload(timestamp=0, seq=0, metrics=tuple(metrics))))


Outcome = tuple[str, Any]


def model_outcome(instrument: str, p: Payload) -> Outcome:
    try:
        return "ok", tuple(record_of(e)._replace(event=None) for e in events_from_payload(instrument, p))
    except TelemetryError as err:
        return "error", (str(err), err.reason_class)


def fast_outcome(instrument: str, p: Payload) -> tuple[Outcome, tuple[EventRecord, ...]]:
    try:
        records = records_from_payload(instrument, p)
    except TelemetryError as err:
        return ("error", (str(err), err.reason_class)), ()
    return ("ok", tuple(r._replace(event=None) for r in records)), records


GOOD: list[tuple[str, dict[str, Any]]] = [
    ("transaction", {"gross_kg": "1.255", "tare_kg": "0.005", "net_kg": "1.250", "unit_price": "12.80", "price": "16"}),
    ("transaction", {"gross_kg": "0", "net_kg": "-0"}),
    ("transaction", {"gross_kg": "0.000000001", "net_kg": "0.0000001", "tare_kg": "0.000000"}),
    ("transaction", {"gross_kg": "999999999.999999999", "net_kg": "-999999999.999999999", "price": None}),
    ("transaction", {"price": "1.10", "net_kg": "2.500000000", "gross_kg": "10", "unit_price": None}),
    ("check", {"weight_id": "M1-20kg-03", "nominal_kg": "20", "indication_kg": "20.005"}),
    ("check", {"nominal_kg": "0.5", "indication_kg": "0.5"}),
    ("check", {"weight_id": '陕A12345 \t\n\r\x7f\u2028\u2029\x1f"\\/€𝄞', "nominal_kg": "1", "indication_kg": "1"}),
    ("check", {"weight_id": "x" * 200, "nominal_kg": "1", "indication_kg": "1"}),
    ("check", {"weight_id": "a\x00b", "nominal_kg": "1", "indication_kg": "1"}),  # the ingest refuses it (NUL)
    ("key_press", {"key": "F3", "gross_before_kg": "0.500", "gross_after_kg": "0.550"}),
    ("key_press", {"key": "k" * 32, "gross_before_kg": "0", "gross_after_kg": "0"}),
]

#: Events the fast path leaves to the model: some the model accepts (other spellings), most it refuses.
OTHER: list[tuple[str, dict[str, Any]]] = [
    ("transaction", {"gross_kg": "1e3", "net_kg": "1"}),
    ("transaction", {"gross_kg": " 1.5", "net_kg": "1"}),
    ("transaction", {"gross_kg": "1.5 ", "net_kg": "1"}),
    ("transaction", {"gross_kg": "+1.5", "net_kg": "1"}),
    ("transaction", {"gross_kg": "1_000", "net_kg": "1"}),
    ("transaction", {"gross_kg": "01.5", "net_kg": "1"}),
    ("transaction", {"gross_kg": ".5", "net_kg": "1"}),
    ("transaction", {"gross_kg": "5.", "net_kg": "1"}),
    ("transaction", {"gross_kg": "1234567890", "net_kg": "1"}),
    ("transaction", {"gross_kg": "0.0000000001", "net_kg": "1"}),
    ("transaction", {"gross_kg": "NaN", "net_kg": "1"}),
    ("transaction", {"gross_kg": "inf", "net_kg": "1"}),
    ("transaction", {"gross_kg": "", "net_kg": "1"}),
    ("transaction", {"gross_kg": "abc", "net_kg": "1"}),
    ("transaction", {"gross_kg": "١٢", "net_kg": "1"}),  # Arabic-Indic digits
    ("transaction", {"gross_kg": None, "net_kg": "1"}),
    ("transaction", {"gross_kg": "1", "net_kg": "1", "tare_kg": None}),
    ("transaction", {"gross_kg": 1, "net_kg": "1"}),
    ("transaction", {"gross_kg": 1.5, "net_kg": "1"}),
    ("transaction", {"gross_kg": True, "net_kg": "1"}),
    ("transaction", {"gross_kg": "1"}),
    ("transaction", {}),
    ("transaction", {"gross_kg": "1", "net_kg": "1", "colour": "red"}),
    ("transaction", {"gross_kg": "1", "net_kg": "1", "kind": "transaction"}),
    ("transaction", {"gross_kg": "1", "net_kg": "1", "gross_kg/0": "1"}),
    ("transaction", {"gross_kg": "1", "net_kg": "1", "price/x": "1"}),
    ("check", {"weight_id": "x" * 201, "nominal_kg": "1", "indication_kg": "1"}),
    ("check", {"weight_id": None, "nominal_kg": "1", "indication_kg": "1"}),
    ("check", {"weight_id": 5, "nominal_kg": "1", "indication_kg": "1"}),
    ("key_press", {"key": "", "gross_before_kg": "0", "gross_after_kg": "0"}),
    ("key_press", {"key": "k" * 33, "gross_before_kg": "0", "gross_after_kg": "0"}),
    ("key_press", {"gross_before_kg": "0", "gross_after_kg": "0"}),
    ("heartbeat", {"uptime_s": 1.5, "queue_depth": 2}),
    ("state", {"state": "unlock", "actor": "x"}),
    ("zero_setting", {"source": "key", "offset_kg": "0.001"}),
    ("unknown", {"gross_kg": "1"}),
]


@pytest.mark.parametrize("event", GOOD, ids=[f"good{i}" for i in range(len(GOOD))])
def test_good_plain_events_take_the_fast_path_and_give_the_models_record(event: tuple[str, dict[str, Any]]) -> None:
    p = payload(event)
    outcome, records = fast_outcome("SC-0001", p)
    assert outcome == model_outcome("SC-0001", p)
    assert outcome[0] == "ok"
    assert [r.event for r in records] == [None]  # not built: the fast path's own work was compared
    # and the digest the duplicate/replay check compares is the one of the model's canonical JSON
    (event_model,) = events_from_payload("SC-0001", p)
    assert (
        hashlib.sha256(records[0].canonical.encode()).hexdigest()
        == hashlib.sha256(event_model.canonical_json().encode()).hexdigest()
    )


@pytest.mark.parametrize("event", OTHER, ids=[f"other{i}" for i in range(len(OTHER))])
def test_other_events_get_the_models_record_or_error(event: tuple[str, dict[str, Any]]) -> None:
    p = payload(event)
    outcome, records = fast_outcome("SC-0001", p)
    assert outcome == model_outcome("SC-0001", p)
    if outcome[0] == "ok":
        assert records[0].event is not None


@pytest.mark.parametrize(
    ("instrument", "seq", "ms"),
    [
        ("SC 1", 7, T0_MS),  # not an instrument id
        ("", 7, T0_MS),
        ("a" * 65, 7, T0_MS),
        ("a" * 64, 7, T0_MS),  # the longest id: fast
        ("SC-1\n", 7, T0_MS),
        ("SC-1", 2**63, T0_MS),  # past MAX_SEQ
        ("SC-1", 2**63 - 2, T0_MS),
        ("SC-1", True, T0_MS),
        ("SC-1", 7, None),  # no time
        ("SC-1", 7, 2**63),  # a time past year 9999: malformed, not a crash
        ("SC-1", 7, 253402300799999),
        ("SC-1", 7, 0),
        ("SC-1", 7, 1),
        ("SC-1", 7, 123_456),
    ],
)
def test_the_envelope_is_checked_as_the_model_does(instrument: str, seq: Any, ms: int | None) -> None:
    p = payload(("transaction", {"gross_kg": "1", "net_kg": "1"}), ("check", {"nominal_kg": "1", "indication_kg": "1"}),
                seq=seq, ms=ms)  # fmt: skip
    assert fast_outcome(instrument, p)[0] == model_outcome(instrument, p)


def test_a_time_out_of_range_is_a_malformed_event_not_a_crash() -> None:
    p = payload(("transaction", {"gross_kg": "1", "net_kg": "1"}), ms=2**63)
    with pytest.raises(TelemetryError, match=r"payload.events\[0\]: time .* out of range"):
        events_from_payload("SC-1", p)
    with pytest.raises(TelemetryError, match="out of range"):
        records_from_payload("SC-1", p)


def test_a_bad_event_after_good_ones_gives_the_models_error_with_its_index() -> None:
    p = payload(
        ("transaction", {"gross_kg": "1", "net_kg": "1"}),
        ("transaction", {"gross_kg": "1", "net_kg": "1"}),
        ("transaction", {"gross_kg": "1", "net_kg": "1", "tare_kg": "x"}),
    )
    outcome = fast_outcome("SC-1", p)[0]
    assert outcome == model_outcome("SC-1", p)
    assert outcome[0] == "error"
    assert str(outcome[1][0]).startswith("payload.events[2].")


def test_malformed_groups_give_the_models_error() -> None:
    seq_only = Payload(timestamp=0, seq=0, metrics=(Metric(SEQ_METRIC, DataType.UINT64, 1, timestamp=T0_MS),))
    no_kind = Payload(
        timestamp=0,
        seq=0,
        metrics=(Metric(SEQ_METRIC, DataType.UINT64, 1, timestamp=T0_MS), metric("transaction/gross_kg", "1")),
    )
    kind_int = Payload(
        timestamp=0, seq=0, metrics=(Metric(SEQ_METRIC, DataType.UINT64, 1, timestamp=T0_MS), metric(KIND_METRIC, 5))
    )
    first_not_seq = Payload(timestamp=0, seq=0, metrics=(metric(KIND_METRIC, "transaction"),))
    empty = Payload(timestamp=0, seq=0, metrics=())
    for p in (seq_only, no_kind, kind_int, first_not_seq, empty):
        outcome = fast_outcome("SC-1", p)[0]
        assert outcome == model_outcome("SC-1", p)
        assert outcome[0] == "error"


def test_events_built_with_the_model_round_trip_through_the_fast_path() -> None:
    t0 = datetime(2026, 12, 7, tzinfo=UTC)
    events = [
        TelemetryEvent(instrument="D001", seq=s, time=t0 + timedelta(milliseconds=37 * s), body=body)
        for s, body in enumerate(
            [
                Transaction(gross_kg=Decimal("1.255"), tare_kg=Decimal("0.005"), net_kg=Decimal("1.250")),
                Transaction(
                    gross_kg=Decimal("3"), net_kg=Decimal("3"), unit_price=Decimal("2.5"), price=Decimal("7.5")
                ),
                CheckWeighing(weight_id="W", nominal_kg=Decimal("20"), indication_kg=Decimal("20.005")),
                KeyPress(key="F1", gross_before_kg=Decimal("0.5"), gross_after_kg=Decimal("0.55")),
            ]
        )
    ]
    records = records_from_payload("D001", payload_from_events(events, seq=0, timestamp=0))
    assert [r.event for r in records] == [None] * 4
    assert [r._replace(event=None) for r in records] == [record_of(e)._replace(event=None) for e in events]


_texts = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"-?[0-9]{1,11}(\.[0-9]{0,11})?", fullmatch=True),
    st.sampled_from(["0", "-0", "1e3", "1E-9", "0.0000001", " 1", "NaN", "-inf", "1_0", "x" * 201]),
)
_values = st.one_of(_texts, st.none(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False), st.booleans())
_fields = {
    "transaction": ["gross_kg", "tare_kg", "net_kg", "unit_price", "price", "kind", "colour"],
    "check": ["weight_id", "nominal_kg", "indication_kg", "gross_kg"],
    "key_press": ["key", "gross_before_kg", "gross_after_kg", "price"],
}


@st.composite
def _plain_events(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(sorted(_fields)))
    names = draw(st.lists(st.sampled_from(_fields[kind]), unique=True, max_size=6))
    return kind, {name: draw(_values) for name in names}


@settings(max_examples=400, deadline=None)
@given(st.lists(_plain_events(), min_size=1, max_size=4), st.integers(0, 2**63 - 10), st.integers(-(2**45), 2**45))
def test_generated_plain_events_give_the_same_outcome(
    events: list[tuple[str, dict[str, Any]]], seq: int, ms: int
) -> None:
    p = payload(*events, seq=seq, ms=ms)
    assert fast_outcome("SC-0001", p)[0] == model_outcome("SC-0001", p)
