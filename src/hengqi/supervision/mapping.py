"""Telemetry events to Sparkplug B payloads and back (pure).

A DDATA payload of device ``<instrument>`` carries one or more events.  Each event starts with the metric
``hengqi/seq`` (UInt64, the event sequence number; its metric timestamp is the event time in ms), then
``hengqi/kind`` (String), then one metric per field of the body, named ``<kind>/<field>``:

==========================  ==================================================================
Python value                Sparkplug metric
==========================  ==================================================================
``Decimal`` (masses)        String, the exact decimal text
``int``                     Int64
``float``                   Double
``bool``                    Boolean
``str``                     String
``datetime``                DateTime (ms since the epoch, UTC)
``list[float]``             Bytes: IEEE 754 binary64, little-endian, one after the other
``list[list[float]]``       one Bytes metric per inner list, named ``<kind>/<field>/<index>``
a nested record             one metric per field, named ``<kind>/<field>/<subfield>``
``None``                    ``is_null`` with data type String
==========================  ==================================================================

The instrument id is not in the payload: it is the topic's device id, which the broker's ACL ties to the device's
credentials.  NBIRTH and NDEATH carry ``bdSeq`` (UInt64) as Sparkplug B 3.0 requires, NBIRTH also
``Node Control/Rebirth`` (Boolean, false); DBIRTH carries ``hengqi/format`` and the identity metrics.

>>> from datetime import UTC, datetime
>>> from hengqi.supervision.telemetry import TelemetryEvent, Heartbeat
>>> e = TelemetryEvent(instrument="SC-1", seq=3, time=datetime(2026, 1, 1, tzinfo=UTC), body=Heartbeat(queue_depth=2))
>>> events_from_payload("SC-1", payload_from_events([e], seq=0, timestamp=0)) == (e,)
True
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any, Final

import orjson
from pydantic import BaseModel

from hengqi.supervision.errors import TelemetryError
from hengqi.supervision.sparkplug import DataType, Metric, Payload, Value
from hengqi.supervision.telemetry import (
    MAX_SEQ,
    MAX_TEXT,
    EventRecord,
    TelemetryEvent,
    ms_from_utc,
    parse_event,
    record_of,
    utc_from_ms,
)

SEQ_METRIC: Final = "hengqi/seq"
KIND_METRIC: Final = "hengqi/kind"
FORMAT_METRIC: Final = "hengqi/format"
FORMAT: Final = "hengqi-field-telemetry/1"
BDSEQ_METRIC: Final = "bdSeq"
REBIRTH_METRIC: Final = "Node Control/Rebirth"


def _metric(name: str, value: Any) -> list[Metric]:
    if value is None:
        return [Metric(name, DataType.STRING, None)]
    if isinstance(value, bool):
        return [Metric(name, DataType.BOOLEAN, value)]
    if isinstance(value, int):
        return [Metric(name, DataType.INT64, value)]
    if isinstance(value, float):
        return [Metric(name, DataType.DOUBLE, value)]
    if isinstance(value, Decimal | str):
        return [Metric(name, DataType.STRING, str(value))]
    if isinstance(value, datetime):
        return [Metric(name, DataType.DATETIME, ms_from_utc(value))]
    if isinstance(value, BaseModel):
        return [m for sub, inner in value for m in _metric(f"{name}/{sub}", inner)]
    if isinstance(value, list):
        if value and isinstance(value[0], list):
            return [m for i, inner in enumerate(value) for m in _metric(f"{name}/{i}", inner)]
        return [Metric(name, DataType.BYTES, struct.pack(f"<{len(value)}d", *value))]
    raise TypeError(f"cannot map {type(value).__name__} of {name} to a metric")  # pragma: no cover - model change


def event_metrics(event: TelemetryEvent) -> list[Metric]:
    """The metrics of one event (see the module docstring)."""
    kind = event.kind
    metrics = [Metric(SEQ_METRIC, DataType.UINT64, event.seq, timestamp=ms_from_utc(event.time))]
    metrics.append(Metric(KIND_METRIC, DataType.STRING, kind))
    for field, value in event.body:
        if field != "kind":
            metrics.extend(_metric(f"{kind}/{field}", value))
    return metrics


def payload_from_events(events: Iterable[TelemetryEvent], *, seq: int, timestamp: int) -> Payload:
    """A DDATA payload carrying ``events`` in order."""
    metrics: list[Metric] = []
    for event in events:
        metrics.extend(event_metrics(event))
    return Payload(timestamp=timestamp, seq=seq, metrics=tuple(metrics))


def _value(metric: Metric, path: str) -> Any:
    value: Value = metric.value
    if value is None:
        return None
    if metric.datatype is DataType.DATETIME and isinstance(value, int):
        return _time(value, f"{path}.{metric.name}")
    if metric.datatype is DataType.BYTES and isinstance(value, bytes):
        if len(value) % 8:
            raise TelemetryError(
                f"{path}.{metric.name}", f"sample array of {len(value)} bytes is not a whole number of binary64"
            )
        return list(struct.unpack(f"<{len(value) // 8}d", value))
    return value


def _event(instrument: str, group: Sequence[Metric], index: int) -> TelemetryEvent:
    path = f"payload.events[{index}]"
    head = group[0]
    if head.timestamp is None or not isinstance(head.value, int):
        raise TelemetryError(path, f"{SEQ_METRIC} needs an integer value and a timestamp")
    if len(group) < 2 or group[1].name != KIND_METRIC or not isinstance(group[1].value, str):
        raise TelemetryError(path, f"{SEQ_METRIC} must be followed by {KIND_METRIC}")
    kind = group[1].value
    body: dict[str, Any] = {"kind": kind}
    lists: dict[str, dict[int, Any]] = {}
    records: dict[str, dict[str, Any]] = {}
    prefix = f"{kind}/"
    cut = len(prefix)
    for metric in group[2:]:
        name = metric.name
        if not name.startswith(prefix):
            raise TelemetryError(f"{path}.{name}", f"metric does not belong to a {kind!r} event")
        field, _, inner = name[cut:].partition("/")
        value = _value(metric, path)
        if not inner:
            if field in body or field in lists or field in records:
                raise TelemetryError(f"{path}.{name}", "metric repeated")
            body[field] = value
        elif inner.isdigit() and len(inner) <= 3:
            if field in body or field in records or int(inner) in lists.get(field, {}):
                raise TelemetryError(f"{path}.{name}", "metric repeated")
            lists.setdefault(field, {})[int(inner)] = value
        elif "/" not in inner:
            if field in body or field in lists or inner in records.get(field, {}):
                raise TelemetryError(f"{path}.{name}", "metric repeated")
            records.setdefault(field, {})[inner] = value
        else:
            raise TelemetryError(f"{path}.{name}", "metric name nested too deep")
    for field, items in lists.items():
        if sorted(items) != list(range(len(items))):
            raise TelemetryError(f"{path}.{kind}/{field}", "indices are not 0..n-1")
        body[field] = [items[i] for i in range(len(items))]
    body.update(records)
    data = {"instrument": instrument, "seq": head.value, "time": _time(head.timestamp, path), "body": body}
    return parse_event(data, path=path)


def _time(ms: int, path: str) -> datetime:
    """:func:`utc_from_ms`, with a time past the years 1-9999 refused as malformed (it raised ``ValueError`` and
    stopped the ingest's writer on such a message before)."""
    try:
        return utc_from_ms(ms)
    except (ValueError, OverflowError, OSError):
        raise TelemetryError(path, f"time {ms} ms since the epoch is out of range") from None


def events_from_payload(instrument: str, payload: Payload) -> tuple[TelemetryEvent, ...]:
    """The events a DDATA payload carries; :class:`TelemetryError` (malformed) if it carries anything else."""
    metrics = payload.metrics
    if not metrics:
        raise TelemetryError("payload.metrics", "a DDATA payload carries at least one event")
    if metrics[0].name != SEQ_METRIC:
        raise TelemetryError(
            "payload.metrics[0]", f"the first metric must be {SEQ_METRIC}, got {metrics[0].name[:80]!r}"
        )
    starts = [i for i, m in enumerate(metrics) if m.name == SEQ_METRIC] + [len(metrics)]
    return tuple(_event(instrument, metrics[a:b], n) for n, (a, b) in enumerate(pairwise(starts)))


# -- the ingest's fast path ------------------------------------------------------------------------------------------
#: Masses the fast path reads itself: at most 9 digits before and 9 after the point, no sign but "-", no exponent,
#: no blanks or underscores; any other text goes to the model, which accepts or refuses it (``Mass``).
_MASS_TEXT: Final = re.compile(r"-?(?:0|[1-9][0-9]{0,8})(?:\.[0-9]{1,9})?")
_INSTRUMENT_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MASS, _OPTIONAL_MASS, _TEXT, _KEY = 0, 1, 2, 3
#: The bodies the fast path checks without the model: plain ones (they change nothing in a device's status but its
#: watermark), of masses and short texts only.  Per kind: field -> (check, default; ``...`` where required).  Each
#: check is the model's constraint (:mod:`hengqi.supervision.telemetry`) for the one Python type taken here (``str``,
#: or None where the field is optional); ``tests/supervision/test_fast_records.py`` compares both on a corpus.
_FAST_BODIES: Final[dict[str, dict[str, tuple[int, Any]]]] = {
    "transaction": {
        "gross_kg": (_MASS, ...),
        "tare_kg": (_MASS, "0"),
        "net_kg": (_MASS, ...),
        "unit_price": (_OPTIONAL_MASS, None),
        "price": (_OPTIONAL_MASS, None),
    },
    "check": {"weight_id": (_TEXT, ""), "nominal_kg": (_MASS, ...), "indication_kg": (_MASS, ...)},
    "key_press": {"key": (_KEY, ...), "gross_before_kg": (_MASS, ...), "gross_after_kg": (_MASS, ...)},
}


def _fast_record(instrument: str, group: Sequence[Metric]) -> EventRecord | None:
    """The record of one event of a plain kind checked without the model, or None (then the model decides)."""
    if len(group) < 2:
        return None
    head, kind_metric = group[0], group[1]
    seq, ms, kind = head.value, head.timestamp, kind_metric.value
    if type(seq) is not int or not 0 <= seq <= MAX_SEQ or ms is None or kind_metric.name != KIND_METRIC:
        return None
    if not isinstance(kind, str):
        return None
    spec = _FAST_BODIES.get(kind)
    if spec is None:
        return None
    body: dict[str, Any] = {"kind": kind}
    prefix = kind + "/"
    cut = len(prefix)
    mass_text = _MASS_TEXT.fullmatch
    for metric in group[2:]:
        name, value = metric.name, metric.value
        if not name.startswith(prefix):
            return None
        field = name[cut:]
        rule = spec.get(field)
        if rule is None or field in body:
            return None
        check = rule[0]
        if type(value) is str:
            if check <= _OPTIONAL_MASS:
                if not mass_text(value):
                    return None
                # str(Decimal(text)) is the text itself but for 7 or more zeros after "0." (then "1E-7" and so on)
                body[field] = str(Decimal(value)) if "0.000000" in value else value
            elif check == _TEXT:
                if len(value) > MAX_TEXT:
                    return None
                body[field] = value
            elif 1 <= len(value) <= 32:
                body[field] = value
            else:
                return None
        elif value is None and check == _OPTIONAL_MASS:
            body[field] = None
        else:
            return None
    if len(body) <= len(spec):
        for field, (_check, default) in spec.items():
            if field not in body:
                if default is ...:
                    return None
                body[field] = default
    try:
        time = utc_from_ms(ms)
    except (ValueError, OverflowError, OSError):
        return None
    stamp = time.isoformat()[:-6]  # pydantic's JSON form of a UTC time: ISO 8601, "Z" for "+00:00"
    body_text = orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
    canonical = f'{{"body":{body_text},"instrument":"{instrument}","seq":{seq},"time":"{stamp}Z"}}'
    return EventRecord(instrument, seq, time, kind, canonical, body_text, None)


def records_from_payload(instrument: str, payload: Payload) -> tuple[EventRecord, ...]:
    """The records of the events a DDATA payload carries, as :func:`record_of` of :func:`events_from_payload`'s
    events gives them, and the same :class:`TelemetryError` for the first bad event.

    The ingest's path: events of a plain kind (:data:`_FAST_BODIES`) whose values the checks here accept are
    serialised without building the model (``event`` is None); every other event, and every one these checks do not
    accept, goes through the model, which gives the record or the error.  The JSON texts are the model's own
    (``model_dump(mode="json")``, keys sorted, compact): :mod:`orjson` writes strings, None and integers as
    :func:`json.dumps` does with ``ensure_ascii=False``, and the only floats here come from the model.

    >>> from datetime import UTC
    >>> from hengqi.supervision.telemetry import Transaction
    >>> e = TelemetryEvent(instrument="SC-1", seq=3, time=datetime(2026, 1, 1, tzinfo=UTC),
    ...     body=Transaction(gross_kg=Decimal("1.250"), net_kg=Decimal("1.250")))
    >>> (fast,) = records_from_payload("SC-1", payload_from_events([e], seq=0, timestamp=0))
    >>> fast.event is None, fast == record_of(e)._replace(event=None)
    (True, True)
    """
    metrics = payload.metrics
    if not metrics or metrics[0].name != SEQ_METRIC or not _INSTRUMENT_ID.fullmatch(instrument):
        return tuple(record_of(e) for e in events_from_payload(instrument, payload))
    starts = [i for i, m in enumerate(metrics) if m.name == SEQ_METRIC] + [len(metrics)]
    records: list[EventRecord] = []
    for n, (a, b) in enumerate(pairwise(starts)):
        group = metrics[a:b]
        record = _fast_record(instrument, group)
        records.append(record if record is not None else record_of(_event(instrument, group, n)))
    return tuple(records)


def nbirth_payload(bd_seq: int, *, timestamp: int) -> Payload:
    """NBIRTH: seq 0, ``bdSeq`` and ``Node Control/Rebirth`` (Sparkplug B 3.0, 4.2 / 6.4.18)."""
    return Payload(
        timestamp=timestamp,
        seq=0,
        metrics=(Metric(BDSEQ_METRIC, DataType.UINT64, bd_seq), Metric(REBIRTH_METRIC, DataType.BOOLEAN, False)),
    )


def ndeath_payload(bd_seq: int) -> Payload:
    """NDEATH (the MQTT will message): ``bdSeq`` only, no seq."""
    return Payload(timestamp=None, seq=None, metrics=(Metric(BDSEQ_METRIC, DataType.UINT64, bd_seq),))


def dbirth_payload(seq: int, *, timestamp: int, identity: dict[str, str] | None = None) -> Payload:
    """DBIRTH: the format marker and, where known, the identity metrics (``identity/<field>``)."""
    metrics = [Metric(FORMAT_METRIC, DataType.STRING, FORMAT)]
    metrics += [Metric(f"identity/{k}", DataType.STRING, v) for k, v in sorted((identity or {}).items())]
    return Payload(timestamp=timestamp, seq=seq, metrics=tuple(metrics))


def ddeath_payload(seq: int, *, timestamp: int) -> Payload:
    """DDEATH: seq only."""
    return Payload(timestamp=timestamp, seq=seq)


def bd_seq_of(payload: Payload) -> int | None:
    """The ``bdSeq`` metric of an NBIRTH/NDEATH payload, or None."""
    for metric in payload.metrics:
        if metric.name == BDSEQ_METRIC and isinstance(metric.value, int) and not isinstance(metric.value, bool):
            return metric.value
    return None
