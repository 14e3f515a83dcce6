"""Sparkplug B 3.0 topics and payloads as pure codecs (no broker, no I/O).

Sources: Eclipse Sparkplug Specification, version 3.0.0 (2022-11-16), chapter 4 "Topics and messages" (topic
namespace ``spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]``, message types, ``bdSeq`` and
``seq``) and chapter 6 "Payloads" (the Google Protocol Buffers schema, reproduced by the Eclipse Tahu project as
``sparkplug_b.proto``, package ``org.eclipse.tahu.protobuf``).  The specification's own text was not read here: the
field and data type numbers come from Tahu's ``.proto`` (read), the topic rules from secondary summaries.
The payload is encoded here directly in the
Protocol Buffers wire format (https://protobuf.dev/programming-guides/encoding/) for the fields this project
uses: Payload.timestamp (1), metrics (2), seq (3), uuid (4), body (5) and Metric.name (1), alias (2),
timestamp (3), datatype (4), is_null (7) and the scalar value fields int_value (10) to bytes_value (16).
Other fields are skipped on decoding, as Protocol Buffers readers do; DataSet, Template and extension values are
refused.  The tests check every encoding with the protobuf library, compiled from a subset .proto with Tahu's numbers.

>>> topic = parse_topic("spBv1.0/market-7/DDATA/agent-1/SC-0001")
>>> topic.message_type, topic.device
('DDATA', 'SC-0001')
>>> p = Payload(timestamp=1, seq=2, metrics=(Metric("hengqi/seq", DataType.UINT64, 7),))
>>> decode_payload(encode_payload(p)) == p
True
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from hengqi.supervision.errors import TelemetryError

NAMESPACE: Final = "spBv1.0"
#: Message types of Sparkplug B 3.0 (chapter 4) that an edge node publishes or receives.
MESSAGE_TYPES: Final[tuple[str, ...]] = ("NBIRTH", "NDEATH", "DBIRTH", "DDEATH", "NDATA", "DDATA", "NCMD", "DCMD")
DEVICE_TYPES: Final[frozenset[str]] = frozenset({"DBIRTH", "DDEATH", "DDATA", "DCMD"})
#: Group, edge node and device ids: Sparkplug forbids ``+``, ``/`` and ``#``; this project also keeps them short
#: and plain, so that they double as MQTT user names and file names.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class DataType(IntEnum):
    """Metric data types (Sparkplug B 3.0, 6.4.16; the numbering of Tahu's ``sparkplug_b.proto``)."""

    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14
    UUID = 15
    DATASET = 16
    BYTES = 17
    FILE = 18
    TEMPLATE = 19


_INT_VALUE = frozenset(
    {DataType.INT8, DataType.INT16, DataType.INT32, DataType.UINT8, DataType.UINT16, DataType.UINT32}
)
_LONG_VALUE = frozenset({DataType.INT64, DataType.UINT64, DataType.DATETIME})
_STRING_VALUE = frozenset({DataType.STRING, DataType.TEXT, DataType.UUID})
_BYTES_VALUE = frozenset({DataType.BYTES, DataType.FILE})
_SIGNED = frozenset({DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64})
_BITS = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64}

Value = int | float | bool | str | bytes | None


@dataclass(frozen=True, slots=True)
class Topic:
    """A Sparkplug B topic; ``device`` is None for node-level messages."""

    group: str
    message_type: str
    edge_node: str
    device: str | None = None

    def __str__(self) -> str:
        tail = f"/{self.device}" if self.device is not None else ""
        return f"{NAMESPACE}/{self.group}/{self.message_type}/{self.edge_node}{tail}"


def check_id(value: str, path: str) -> str:
    """``value`` if it is a valid group, edge node or device id, else :class:`TelemetryError`."""
    if not _ID.match(value):
        raise TelemetryError(
            path, f"{value[:80]!r} is not a valid id (letters, digits, '.', '_', '-'; 1-64)", reason_class="topic"
        )
    return value


def make_topic(group: str, message_type: str, edge_node: str, device: str | None = None) -> Topic:
    """A checked :class:`Topic` (device messages need a device, node messages must not have one)."""
    if message_type not in MESSAGE_TYPES:
        raise TelemetryError("topic.message_type", f"unknown message type {message_type!r}", reason_class="topic")
    if (message_type in DEVICE_TYPES) != (device is not None):
        raise TelemetryError(
            "topic.device",
            f"{message_type} {'needs' if device is None else 'takes no'} device id",
            reason_class="topic",
        )
    check_id(group, "topic.group")
    check_id(edge_node, "topic.edge_node")
    if device is not None:
        check_id(device, "topic.device")
    return Topic(group, message_type, edge_node, device)


def parse_topic(text: str) -> Topic:
    """Parse ``spBv1.0/<group>/<type>/<edge>[/<device>]``; :class:`TelemetryError` otherwise.

    >>> parse_topic("spBv1.0/g/NBIRTH/e")
    Topic(group='g', message_type='NBIRTH', edge_node='e', device=None)
    """
    parts = text.split("/")
    if len(parts) not in (4, 5) or parts[0] != NAMESPACE:
        raise TelemetryError("topic", f"not a Sparkplug B device or node topic: {text[:120]!r}", reason_class="topic")
    return make_topic(parts[1], parts[2], parts[3], parts[4] if len(parts) == 5 else None)


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric: name, data type and value (None: ``is_null``); ``timestamp`` in ms since the epoch."""

    name: str
    datatype: DataType
    value: Value
    timestamp: int | None = None
    alias: int | None = None


@dataclass(frozen=True, slots=True)
class Payload:
    """A Sparkplug B payload: sending time (ms), sequence number (0-255) and metrics."""

    timestamp: int | None
    seq: int | None
    metrics: tuple[Metric, ...] = ()
    uuid: str | None = None
    body: bytes | None = None


# -- Protocol Buffers wire format ------------------------------------------------------------------------------------
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_U64: Final = (1 << 64) - 1


def _varint(value: int, out: bytearray) -> None:
    value &= _U64
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _key(field: int, wire: int, out: bytearray) -> None:
    _varint((field << 3) | wire, out)


def _len_field(field: int, data: bytes, out: bytearray) -> None:
    _key(field, _LEN, out)
    _varint(len(data), out)
    out += data


def _encode_metric(metric: Metric) -> bytes:
    out = bytearray()
    _len_field(1, metric.name.encode(), out)
    if metric.alias is not None:
        _key(2, _VARINT, out)
        _varint(metric.alias, out)
    if metric.timestamp is not None:
        _key(3, _VARINT, out)
        _varint(metric.timestamp, out)
    _key(4, _VARINT, out)
    _varint(int(metric.datatype), out)
    value, kind = metric.value, metric.datatype
    if value is None:
        _key(7, _VARINT, out)
        out.append(1)
    elif kind in _INT_VALUE:
        _key(10, _VARINT, out)
        _varint(int(value) & 0xFFFFFFFF, out)
    elif kind in _LONG_VALUE:
        _key(11, _VARINT, out)
        _varint(int(value), out)
    elif kind is DataType.FLOAT:
        _key(12, _I32, out)
        out += struct.pack("<f", value)
    elif kind is DataType.DOUBLE:
        _key(13, _I64, out)
        out += struct.pack("<d", value)
    elif kind is DataType.BOOLEAN:
        _key(14, _VARINT, out)
        out.append(1 if value else 0)
    elif kind in _STRING_VALUE:
        _len_field(15, str(value).encode(), out)
    elif kind in _BYTES_VALUE:
        if not isinstance(value, bytes):
            raise TypeError(f"metric {metric.name}: bytes value expected")
        _len_field(16, value, out)
    else:
        raise TelemetryError(f"metric {metric.name}", f"data type {kind.name} is not supported")
    return bytes(out)


def encode_payload(payload: Payload) -> bytes:
    """The payload in the Protocol Buffers wire format (field order as protoc writes it)."""
    out = bytearray()
    if payload.timestamp is not None:
        _key(1, _VARINT, out)
        _varint(payload.timestamp, out)
    for metric in payload.metrics:
        _len_field(2, _encode_metric(metric), out)
    if payload.seq is not None:
        _key(3, _VARINT, out)
        _varint(payload.seq, out)
    if payload.uuid is not None:
        _len_field(4, payload.uuid.encode(), out)
    if payload.body is not None:
        _len_field(5, payload.body, out)
    return bytes(out)


def _fail(path: str, reason: str, pos: int) -> TelemetryError:
    return TelemetryError(path, f"{reason} at byte {pos}")


def _varint_at(data: bytes, pos: int, end: int, path: str) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it (the slow path: two bytes or more)."""
    result = shift = 0
    while True:
        if pos >= end:
            raise _fail(path, "truncated varint", pos)
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & _U64, pos
        shift += 7
        if shift >= 70:
            raise _fail(path, "varint longer than 10 bytes", pos)


def _text(data: bytes, start: int, stop: int, path: str) -> str:
    try:
        return data[start:stop].decode()
    except UnicodeDecodeError:
        raise _fail(path, "string is not UTF-8", start) from None


def _signed(value: int, kind: DataType) -> int:
    bits = _BITS[kind]
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


_EXPECTED_WIRE: Final[dict[int, int]] = {
    1: _LEN, 2: _VARINT, 3: _VARINT, 4: _VARINT, 7: _VARINT, 10: _VARINT, 11: _VARINT,
    12: _I32, 13: _I64, 14: _VARINT, 15: _LEN, 16: _LEN,
}  # fmt: skip
_DATATYPES: Final[dict[int, DataType]] = {int(t): t for t in DataType}
#: The value field (Metric.int_value ... bytes_value) each supported data type must use.
_VALUE_FIELD: Final[dict[DataType, int]] = {
    **dict.fromkeys(_INT_VALUE, 10),
    **dict.fromkeys(_LONG_VALUE, 11),
    DataType.FLOAT: 12,
    DataType.DOUBLE: 13,
    DataType.BOOLEAN: 14,
    **dict.fromkeys(_STRING_VALUE, 15),
    **dict.fromkeys(_BYTES_VALUE, 16),
}


def _decode_metric(data: bytes, start: int, end: int, path: str) -> Metric:
    name = ""
    alias = timestamp = datatype = None
    is_null = False
    raw: Value = None
    raw_field = 0
    pos = start
    while pos < end:  # one tight loop, no objects per field: this runs for every metric of every message
        key = data[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = _varint_at(data, pos, end, path)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise _fail(path, "field number 0", pos)
        expected = _EXPECTED_WIRE.get(field, wire)
        if wire != expected:
            raise _fail(path, f"field {field} has wire type {wire}", pos)
        if wire == _VARINT:
            if pos < end and data[pos] < 0x80:
                a = data[pos]
                pos += 1
            else:
                a, pos = _varint_at(data, pos, end, path)
            if field == 4:
                datatype = a
            elif field in (10, 11, 14):
                raw, raw_field = a, field
            elif field == 3:
                timestamp = a
            elif field == 2:
                alias = a
            elif field == 7:
                is_null = bool(a)
            elif field in (17, 18, 19):
                raise _fail(path, "DataSet, Template and extension values are not supported", pos)
            continue
        if wire == _LEN:
            if pos < end and data[pos] < 0x80:
                n = data[pos]
                pos += 1
            else:
                n, pos = _varint_at(data, pos, end, path)
        elif wire == _I64:
            n = 8
        elif wire == _I32:
            n = 4
        else:
            raise _fail(path, f"unsupported wire type {wire}", pos)
        a, pos = pos, pos + n
        if pos > end:
            raise _fail(path, f"field of {n} bytes runs past the end", a)
        if field == 1:
            name = _text(data, a, pos, path)
        elif field == 15:
            raw, raw_field = _text(data, a, pos, path), field
        elif field == 12:
            raw, raw_field = struct.unpack_from("<f", data, a)[0], field
        elif field == 13:
            raw, raw_field = struct.unpack_from("<d", data, a)[0], field
        elif field == 16:
            raw, raw_field = data[a:pos], field
        elif field in (17, 18, 19):
            raise _fail(path, "DataSet, Template and extension values are not supported", a)
    kind = _DATATYPES.get(datatype) if datatype is not None else None
    if kind is None:
        raise TelemetryError(f"{path}.datatype", f"unknown data type {datatype}")
    if is_null:
        return Metric(name, kind, None, timestamp, alias)
    wanted = _VALUE_FIELD.get(kind, 0)
    if wanted == 0:
        raise TelemetryError(f"{path}.datatype", f"data type {kind.name} is not supported")
    if raw_field != wanted:
        raise TelemetryError(f"{path}.value", f"no value of data type {kind.name}")
    if wanted == 14:
        raw = bool(raw)
    elif kind in _SIGNED and isinstance(raw, int):
        raw = _signed(raw, kind)
    return Metric(name, kind, raw, timestamp, alias)


#: Decoded metrics by their bytes.  A metric is an immutable value, and many repeat from event to event (the kind,
#: a zero tare, an absent price), so the same bytes are decoded once; bounded (cleared when full).
_METRIC_CACHE: dict[bytes, Metric] = {}
_METRIC_CACHE_SIZE: Final = 4096


def decode_payload(data: bytes, *, max_metrics: int = 100_000) -> Payload:
    """Decode a payload; :class:`TelemetryError` (class ``malformed``) for anything that is not one."""
    timestamp = seq = None
    uuid: str | None = None
    body: bytes | None = None
    metrics: list[Metric] = []
    append = metrics.append
    cache = _METRIC_CACHE
    pos, end = 0, len(data)
    while pos < end:  # the same loop as _decode_metric's, with the metric (field 2, length-delimited) first
        key = data[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = _varint_at(data, pos, end, "payload")
        if key == 0x12:  # field 2, LEN: a metric
            if pos < end and data[pos] < 0x80:
                n = data[pos]
                pos += 1
            else:
                n, pos = _varint_at(data, pos, end, "payload")
            a, pos = pos, pos + n
            if pos > end:
                raise _fail("payload", f"field of {n} bytes runs past the end", a)
            if len(metrics) >= max_metrics:
                raise TelemetryError("payload.metrics", f"more than {max_metrics} metrics", reason_class="oversized")
            raw = data[a:pos]
            metric = cache.get(raw)
            if metric is None:
                metric = _decode_metric(raw, 0, n, f"payload.metrics[{len(metrics)}]")
                if len(cache) >= _METRIC_CACHE_SIZE:
                    cache.clear()
                cache[raw] = metric
            append(metric)
            continue
        field, wire = key >> 3, key & 7
        if field == 0:
            raise _fail("payload", "field number 0", pos)
        if wire == _VARINT:
            if pos < end and data[pos] < 0x80:
                a, b = data[pos], -1
                pos += 1
            else:
                a, pos = _varint_at(data, pos, end, "payload")
        else:
            if wire == _LEN:
                if pos < end and data[pos] < 0x80:
                    n = data[pos]
                    pos += 1
                else:
                    n, pos = _varint_at(data, pos, end, "payload")
            elif wire == _I64:
                n = 8
            elif wire == _I32:
                n = 4
            else:
                raise _fail("payload", f"unsupported wire type {wire}", pos)
            if pos + n > end:
                raise _fail("payload", f"field of {n} bytes runs past the end", pos)
            a, b = pos, pos + n
            pos = b
        if field == 2:
            raise _fail("payload", f"field {field} is not length-delimited", a)
        if field in (1, 3):
            if wire != _VARINT:
                raise _fail("payload", f"field {field} is not a varint", a)
            if field == 1:
                timestamp = a
            else:
                seq = a
        elif field in (4, 5):
            if wire != _LEN:
                raise _fail("payload", f"field {field} is not length-delimited", a)
            if field == 4:
                uuid = _text(data, a, b, "payload")
            else:
                body = data[a:b]
    return Payload(timestamp=timestamp, seq=seq, metrics=tuple(metrics), uuid=uuid, body=body)


# -- Host application STATE -----------------------------------------------------------------------------------------
#: Topic prefix of the host application STATE messages (Sparkplug B 3.0: ``spBv1.0/STATE/<sparkplug_host_id>``).
STATE_PREFIX: Final = f"{NAMESPACE}/STATE/"


@dataclass(frozen=True, slots=True)
class HostState:
    """A host application STATE message: online or not, and the time it stands for (ms since the epoch, UTC).

    Sparkplug B 3.0 (chapter 4, host application topics; chapter 6 for the payload) replaced 2.2's ``ONLINE`` /
    ``OFFLINE`` strings on ``STATE/<host id>`` by UTF-8 JSON ``{"online": true|false, "timestamp": ms}`` on
    ``spBv1.0/STATE/<host id>``, published retained at QoS 1: the death as the host's MQTT will, the birth after
    its subscriptions, with the timestamp of the will.  The specification's text was not read here: these rules
    come from the Eclipse Sparkplug TCK's requirement list (``tck-id-host-topic-phid-birth-payload``,
    ``-birth-qos``, ``-birth-retain``, ``-birth-payload-timestamp``, ``-death-*``) as quoted by secondary sources.

    >>> decode_state(encode_state(HostState(True, 1700000000000)))
    HostState(online=True, timestamp=1700000000000)
    >>> encode_state(HostState(False, 5))
    b'{"online":false,"timestamp":5}'
    """

    online: bool
    timestamp: int


def state_topic(host_id: str) -> str:
    """``spBv1.0/STATE/<host id>`` for a valid host id."""
    return STATE_PREFIX + check_id(host_id, "host_id")


def encode_state(state: HostState) -> bytes:
    """The STATE payload (compact JSON, ``online`` then ``timestamp``)."""
    return f'{{"online":{"true" if state.online else "false"},"timestamp":{int(state.timestamp)}}}'.encode()


def decode_state(data: bytes) -> HostState:
    """Read a STATE payload; :class:`TelemetryError` (malformed) for anything but the 3.0 JSON form."""
    try:
        value = json.loads(data.decode())
    except (UnicodeDecodeError, ValueError) as err:
        raise TelemetryError("state", f"not UTF-8 JSON: {err}") from None
    if not isinstance(value, dict):
        raise TelemetryError("state", "not a JSON object")
    online, timestamp = value.get("online"), value.get("timestamp")
    if not isinstance(online, bool):
        raise TelemetryError("state.online", "must be true or false")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not 0 <= timestamp <= _U64:
        raise TelemetryError("state.timestamp", "must be milliseconds since the epoch")
    return HostState(online, timestamp)


def follow_host_state(last: HostState | None, received: HostState) -> tuple[HostState | None, bool]:
    """What an edge node makes of a STATE message of its primary host: (the state to keep, whether it is news).

    A message older than the last one kept (smaller timestamp) is stale and ignored: an edge node must not
    disconnect on a stale offline STATE (TCK ``tck-id-operational-behavior-edge-node-termination-host-offline-
    timestamp``), nor take a stale online one as leave to publish its birth (``...-birth-publish-phid-wait-
    timestamp``; requirement ids as above, the text not read here).

    >>> follow_host_state(None, HostState(True, 10))
    (HostState(online=True, timestamp=10), True)
    >>> follow_host_state(HostState(True, 10), HostState(False, 9))
    (HostState(online=True, timestamp=10), False)
    """
    if last is not None and received.timestamp < last.timestamp:
        return last, False
    return received, True
