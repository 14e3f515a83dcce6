"""Sparkplug B codecs: topics, the payload wire format against protobuf, refusals of malformed payloads."""

from __future__ import annotations

import contextlib
import math
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hengqi.supervision.errors import TelemetryError
from hengqi.supervision.sparkplug import (
    DataType,
    Metric,
    Payload,
    decode_payload,
    encode_payload,
    make_topic,
    parse_topic,
)


def test_topics_round_trip_and_refusals() -> None:
    for text in ("spBv1.0/g1/NBIRTH/edge-1", "spBv1.0/g1/DDATA/edge-1/SC.0001", "spBv1.0/g/NDEATH/e"):
        assert str(parse_topic(text)) == text
    bad = [
        "spBv1.0/g/DDATA/e",  # device message without device
        "spBv1.0/g/NBIRTH/e/d",  # node message with device
        "spBv1.0/g/XDATA/e/d",
        "spAv1.0/g/DDATA/e/d",
        "spBv1.0/g/DDATA/e/d/extra",
        "spBv1.0/g+/DDATA/e/d",
        "spBv1.0//DDATA/e/d",
        "",
    ]
    for text in bad:
        with pytest.raises(TelemetryError) as info:
            parse_topic(text)
        assert info.value.reason_class == "topic"
    assert str(make_topic("g", "DDEATH", "e", "d")) == "spBv1.0/g/DDEATH/e/d"


def _sample_payload() -> Payload:
    return Payload(
        timestamp=1_765_000_000_123,
        seq=255,
        metrics=(
            Metric("hengqi/seq", DataType.UINT64, 2**63 - 1, timestamp=1_765_000_000_000),
            Metric("a/int8", DataType.INT8, -5),
            Metric("a/int32", DataType.INT32, -(2**31)),
            Metric("a/int64", DataType.INT64, -(2**40)),
            Metric("a/uint32", DataType.UINT32, 2**32 - 1),
            Metric("a/double", DataType.DOUBLE, -1.5e-300),
            Metric("a/float", DataType.FLOAT, 0.5),
            Metric("a/bool", DataType.BOOLEAN, True),
            Metric("a/text", DataType.STRING, "净重 1.250 kg"),
            Metric("a/bytes", DataType.BYTES, b"\x00\xff" * 10),
            Metric("a/null", DataType.STRING, None),
            Metric("a/time", DataType.DATETIME, 1_765_000_000_999, alias=7),
        ),
        uuid="hengqi",
    )


def test_encoding_is_read_by_protobuf(sparkplug_pb2: ModuleType) -> None:
    payload = _sample_payload()
    data = encode_payload(payload)
    message = sparkplug_pb2.Payload()
    message.ParseFromString(data)
    assert message.timestamp == payload.timestamp
    assert message.seq == 255
    assert message.uuid == "hengqi"
    by_name = {m.name: m for m in message.metrics}
    assert by_name["hengqi/seq"].long_value == 2**63 - 1
    assert by_name["hengqi/seq"].timestamp == 1_765_000_000_000
    assert by_name["a/int8"].int_value == 2**32 - 5  # two's complement in uint32 (spec 6.4.16)
    assert by_name["a/int64"].long_value == 2**64 - 2**40
    assert by_name["a/uint32"].int_value == 2**32 - 1
    assert by_name["a/double"].double_value == -1.5e-300
    assert by_name["a/float"].float_value == 0.5
    assert by_name["a/bool"].boolean_value is True
    assert by_name["a/text"].string_value == "净重 1.250 kg"
    assert by_name["a/bytes"].bytes_value == b"\x00\xff" * 10
    assert by_name["a/null"].is_null is True
    assert by_name["a/null"].WhichOneof("value") is None
    assert by_name["a/time"].alias == 7
    assert [m.datatype for m in message.metrics] == [int(m.datatype) for m in payload.metrics]
    # and protobuf's own bytes decode to the same payload
    assert decode_payload(message.SerializeToString()) == payload
    assert decode_payload(data) == payload


def test_decoder_skips_unknown_fields_as_protobuf_does(sparkplug_pb2: ModuleType) -> None:
    message = sparkplug_pb2.Payload(timestamp=5, seq=1)
    metric = message.metrics.add(name="x", datatype=int(DataType.INT64), long_value=3, is_historical=True)
    metric.is_transient = True
    data = message.SerializeToString() + bytes([0x38, 0x01])  # field 7 (unknown to Payload), varint
    assert decode_payload(data) == Payload(timestamp=5, seq=1, metrics=(Metric("x", DataType.INT64, 3),))


names = st.text(min_size=1, max_size=20)
metric_strategy = st.one_of(
    st.builds(Metric, names, st.just(DataType.INT64), st.integers(-(2**63), 2**63 - 1)),
    st.builds(Metric, names, st.just(DataType.UINT64), st.integers(0, 2**64 - 1)),
    st.builds(Metric, names, st.just(DataType.INT16), st.integers(-(2**15), 2**15 - 1)),
    st.builds(Metric, names, st.just(DataType.DOUBLE), st.floats(allow_nan=False)),
    st.builds(Metric, names, st.just(DataType.BOOLEAN), st.booleans()),
    st.builds(Metric, names, st.just(DataType.STRING), st.text(max_size=50)),
    st.builds(Metric, names, st.just(DataType.BYTES), st.binary(max_size=50)),
    st.builds(Metric, names, st.just(DataType.DATETIME), st.integers(0, 2**50), st.integers(0, 2**50)),
)


@settings(max_examples=200, deadline=None)
@given(
    st.builds(
        Payload,
        st.none() | st.integers(0, 2**64 - 1),
        st.none() | st.integers(0, 255),
        st.lists(metric_strategy, max_size=8).map(tuple),
    )
)
def test_round_trip_and_protobuf_agree(payload: Payload) -> None:
    data = encode_payload(payload)
    assert decode_payload(data) == payload


@settings(max_examples=100, deadline=None)
@given(metrics=st.lists(metric_strategy, min_size=1, max_size=5).map(tuple), seq=st.integers(0, 255))
def test_protobuf_reads_every_encoding(sparkplug_pb2: ModuleType, metrics: tuple[Metric, ...], seq: int) -> None:
    message = sparkplug_pb2.Payload()
    message.ParseFromString(encode_payload(Payload(timestamp=1, seq=seq, metrics=metrics)))
    assert message.seq == seq
    assert [m.name for m in message.metrics] == [m.name for m in metrics]
    for got, sent in zip(message.metrics, metrics, strict=True):
        field = got.WhichOneof("value")
        value = getattr(got, field)
        if sent.datatype is DataType.INT64:
            value = value - 2**64 if value >= 2**63 else value
        elif sent.datatype is DataType.INT16:
            value = value - 2**32 if value >= 2**31 else value
        assert value == sent.value
    assert decode_payload(message.SerializeToString()).metrics == metrics


def test_float_metric_round_trips_at_single_precision() -> None:
    payload = Payload(timestamp=None, seq=None, metrics=(Metric("f", DataType.FLOAT, 0.1),))
    (metric,) = decode_payload(encode_payload(payload)).metrics
    assert isinstance(metric.value, float)
    assert metric.value != 0.1
    assert math.isclose(metric.value, 0.1, rel_tol=1e-7)


@pytest.mark.parametrize(
    "data",
    [
        b"\x08",  # truncated varint
        b"\x08" + b"\xff" * 11,  # varint too long
        b"\x12\x05abc",  # length runs past the end
        b"\x0b",  # group start (wire type 3)
        b"\x00",  # field 0
        b"\x12\x03\x0a\x01\xff",  # metric name not UTF-8
        b"\x12\x04\x0a\x01x\x20",  # metric datatype truncated
        b"\x12\x05\x0a\x01x\x20\x63",  # unknown datatype 99
        b"\x12\x05\x0a\x01x\x20\x04",  # Int64 without a value
        b"\x12\x07\x0a\x01x\x20\x04\x78\x01",  # Int64 with a string value
        b"\x12\x05\x0a\x01x\x20\x10",  # DataSet: not supported
        b"\x1a\x00",  # seq with wire type LEN
        b"\x12\x09\x0a\x01x\x20\x0a\x6a\x01\x00",  # double field sent as LEN
    ],
)
def test_malformed_payloads_are_refused(data: bytes) -> None:
    with pytest.raises(TelemetryError) as info:
        decode_payload(data)
    assert info.value.reason_class == "malformed"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    with contextlib.suppress(TelemetryError):
        decode_payload(data)


def test_too_many_metrics_is_oversized() -> None:
    data = encode_payload(Payload(None, None, tuple(Metric("m", DataType.BOOLEAN, True) for _ in range(11))))
    with pytest.raises(TelemetryError) as info:
        decode_payload(data, max_metrics=10)
    assert info.value.reason_class == "oversized"
