"""The ingest service on SQLite and PostgreSQL: store once, refuse and count every bad input class."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from tests.field.conftest import Platform, make_platform, unique

from hengqi.server.field.ingest import Ingestor
from hengqi.server.field.models import FieldDevice, FieldEvent, FieldOffline, FieldRefusal, FieldStatus
from hengqi.supervision.mapping import nbirth_payload, ndeath_payload, payload_from_events
from hengqi.supervision.sparkplug import Metric, Payload, encode_payload
from hengqi.supervision.telemetry import (
    CheckWeighing,
    Counter,
    Counters,
    Heartbeat,
    StateEvent,
    TelemetryEvent,
    Transaction,
)

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def event(device: str, seq: int, net: str = "1.000") -> TelemetryEvent:
    body = Transaction(gross_kg=Decimal(net), net_kg=Decimal(net))
    return TelemetryEvent(instrument=device, seq=seq, time=T0 + timedelta(seconds=seq), body=body)


def ddata(platform: Platform, device: str, events: list[TelemetryEvent], sp_seq: int = 1) -> tuple[str, bytes]:
    topic = f"spBv1.0/{platform.group}/DDATA/{device}/{device}"
    return topic, encode_payload(payload_from_events(events, seq=sp_seq, timestamp=0))


def refusals(platform: Platform) -> dict[tuple[str, str], int]:
    with platform.database.read_session() as session:
        return {(r.device_key, r.reason): r.count for r in session.scalars(select(FieldRefusal))}


def stored(platform: Platform, device: str) -> list[int]:
    with platform.database.read_session() as session:
        pk = session.scalar(select(FieldDevice.id).where(FieldDevice.device_id == device))
        return list(session.scalars(select(FieldEvent.seq).where(FieldEvent.device_pk == pk).order_by(FieldEvent.seq)))


def test_store_once_and_refuse_each_class(db_url: str) -> None:
    a, b = unique("SC"), unique("SC")
    platform = make_platform(db_url, [a, b], group=unique("market"))
    ingest = Ingestor(platform.database, max_message_bytes=4096)
    first = ingest.handle_messages([ddata(platform, a, [event(a, 0), event(a, 1)])])
    assert (first.stored, first.duplicates, sum(first.refused.values())) == (2, 0, 0)
    # a resend (at-least-once): dropped silently
    again = ingest.handle_messages([ddata(platform, a, [event(a, 1)], sp_seq=2)])
    assert (again.stored, again.duplicates) == (0, 1)
    forged = event(a, 1, net="9.000")  # same seq, other content: a replay with changed weight
    late = event(a, 0).model_copy(update={"seq": 0})
    mixed = [
        ddata(platform, a, [forged], sp_seq=3),
        ddata(platform, a, [event(a, 5)], sp_seq=4),
        ddata(platform, a, [event(a, 3)], sp_seq=5),  # below the watermark, never stored: out of order
        ddata(platform, a, [late], sp_seq=6),  # a true duplicate below the watermark
        (f"spBv1.0/{platform.group}/DDATA/{a}/{a}", b"\x12\x05abc"),  # malformed protobuf
        (f"spBv1.0/{platform.group}/DDATA/{a}/{a}", b"\x08\x01" * 3000),  # oversized (6000 > 4096 bytes)
        ("spBv1.0/x/DDATA/only-four", b""),  # not a device topic
        ("other/topic", b""),
        ddata(platform, "SC-unknown", [event("SC-unknown", 0)]),  # not onboarded
        (f"spBv1.0/other-group/DDATA/{b}/{b}", ddata(platform, b, [event(b, 0)])[1]),  # right device, wrong group
    ]
    result = ingest.handle_messages(mixed)
    assert result.stored == 1
    assert result.duplicates == 1
    assert dict(result.refused) == {
        "replayed": 1,
        "out_of_order": 1,
        "malformed": 1,
        "oversized": 1,
        "topic": 2,
        "unauthenticated": 2,
    }
    assert stored(platform, a) == [0, 1, 5]
    assert stored(platform, b) == []
    counted = refusals(platform)
    assert counted[(a, "replayed")] == 1
    assert counted[(a, "oversized")] == 1
    assert counted[("SC-unknown", "unauthenticated")] == 1
    assert counted[(b, "unauthenticated")] == 1
    with platform.database.read_session() as session:
        pk = session.scalar(select(FieldDevice.id).where(FieldDevice.device_id == a))
        body = session.scalar(select(FieldEvent.body).where(FieldEvent.device_pk == pk, FieldEvent.seq == 1))
        assert body is not None
        assert body["net_kg"] == "1.000"  # the forged weight did not replace the stored one
    # the same refusal again increments its counter
    ingest.handle_messages([("other/topic", b"")])
    assert refusals(platform)[("", "topic")] == 3
    platform.database.dispose()


def test_status_counters_and_offline_periods(db_url: str) -> None:
    a = unique("WB")
    platform = make_platform(db_url, [a], group=unique("weighbridges"))
    ingest = Ingestor(platform.database)
    node = f"spBv1.0/{platform.group}/NBIRTH/{a}"
    death = f"spBv1.0/{platform.group}/NDEATH/{a}"
    events = [
        TelemetryEvent(
            instrument=a,
            seq=0,
            time=T0,
            body=Counters(calibration=Counter(value=998, modulus=1000), configuration=Counter(value=4, modulus=1000)),
        ),
        TelemetryEvent(instrument=a, seq=1, time=T0, body=StateEvent(state="case_opened")),
        TelemetryEvent(instrument=a, seq=2, time=T0, body=StateEvent(state="self_lock")),
        TelemetryEvent(instrument=a, seq=3, time=T0, body=Heartbeat()),
    ]
    t = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    ingest.handle_messages([(node, encode_payload(nbirth_payload(1, timestamp=0))), ddata(platform, a, events)], t)
    ingest.handle_messages([(death, encode_payload(ndeath_payload(0)))], t + timedelta(seconds=1))  # stale will
    ingest.handle_messages([(death, encode_payload(ndeath_payload(1)))], t + timedelta(seconds=2))
    ingest.handle_messages([ddata(platform, a, [event(a, 4)], sp_seq=9)], t + timedelta(seconds=62))
    with platform.database.read_session() as session:
        pk = session.scalar(select(FieldDevice.id).where(FieldDevice.device_id == a))
        status = session.get(FieldStatus, pk)
        assert status is not None
        assert (status.calibration_counter, status.configuration_counter, status.counter_modulus) == (998, 4, 1000)
        assert status.case_open is True
        assert status.locked is True
        assert status.watermark == 4
        assert status.stored == 5
        assert status.online is True  # data after the death brought it back
        periods = list(session.scalars(select(FieldOffline).where(FieldOffline.device_pk == pk)))
        assert len(periods) == 1
        assert periods[0].started_at == t + timedelta(seconds=2)
        assert periods[0].ended_at == t + timedelta(seconds=62)
        assert session.scalar(select(func.count()).select_from(FieldEvent).where(FieldEvent.device_pk == pk)) == 5
    platform.database.dispose()


def test_an_event_with_a_nul_character_is_refused_alone(db_url: str) -> None:
    """A NUL in a text would fail the whole transaction at the database (PostgreSQL cannot store it): refused and
    counted as malformed, the other events of the batch stored."""
    a = unique("SC")
    platform = make_platform(db_url, [a], group=unique("market"))
    ingest = Ingestor(platform.database)
    bad = TelemetryEvent(instrument=a, seq=1, time=T0, body=StateEvent(state="unlock", actor="x\x00y"))
    result = ingest.handle_messages([ddata(platform, a, [event(a, 0), bad, event(a, 2)])])
    assert (result.stored, dict(result.refused)) == (2, {"malformed": 1})
    assert stored(platform, a) == [0, 2]
    assert refusals(platform)[(a, "malformed")] == 1


def test_nul_in_an_event_of_the_fast_path_is_refused_alone(db_url: str) -> None:
    """The same for a plain event checked without the model (a check-weighing's weight id with a NUL)."""
    a = unique("SC")
    platform = make_platform(db_url, [a], group=unique("market"))
    ingest = Ingestor(platform.database)
    body = CheckWeighing(weight_id="W\x001", nominal_kg=Decimal(20), indication_kg=Decimal("20.005"))
    bad = TelemetryEvent(instrument=a, seq=1, time=T0, body=body)
    result = ingest.handle_messages([ddata(platform, a, [event(a, 0), bad, event(a, 2)])])
    assert (result.stored, dict(result.refused)) == (2, {"malformed": 1})
    assert stored(platform, a) == [0, 2]


def test_a_time_out_of_range_is_refused_and_the_batch_goes_on(db_url: str) -> None:
    """An event time past the year 9999 raised ValueError out of the ingest (and stopped the MQTT writer); now it is
    a malformed message, counted, and the other messages of the batch are stored."""
    a = unique("SC")
    platform = make_platform(db_url, [a], group=unique("market"))
    ingest = Ingestor(platform.database)
    good = ddata(platform, a, [event(a, 0)])
    metrics = payload_from_events([event(a, 1)], seq=2, timestamp=0).metrics
    far = (Metric(metrics[0].name, metrics[0].datatype, 1, timestamp=2**62), *metrics[1:])
    topic = f"spBv1.0/{platform.group}/DDATA/{a}/{a}"
    result = ingest.handle_messages([good, (topic, encode_payload(Payload(timestamp=0, seq=2, metrics=far)))])
    assert (result.stored, dict(result.refused)) == (1, {"malformed": 1})
    assert "out of range" in result.details[0][2]
    assert stored(platform, a) == [0]


def test_an_event_stored_over_http_is_a_duplicate_when_resent_over_mqtt(db_url: str) -> None:
    """The model's path (HTTP) and the fast path (MQTT) give the same digest: a resend is a duplicate, a changed
    weight under the same seq a replay, whichever path stored the first."""
    a = unique("SC")
    platform = make_platform(db_url, [a], group=unique("market"))
    ingest = Ingestor(platform.database)
    with platform.database.read_session() as session:
        device = session.scalars(select(FieldDevice).where(FieldDevice.device_id == a)).one()
    first = [event(a, 0, "0.000000001"), event(a, 1, "12.50")]
    assert ingest.handle_batch(device, list(enumerate(first))).stored == 2
    again = ingest.handle_messages([ddata(platform, a, [*first, event(a, 1, "12.5")])])
    assert (again.stored, again.duplicates, dict(again.refused)) == (0, 2, {"replayed": 1})
