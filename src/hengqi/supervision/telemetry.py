"""The field telemetry format: what an instrument in service reports to the platform.

One :class:`TelemetryEvent` is an envelope (instrument id, event sequence number, time) around one body, told apart
by its ``kind``:

``identity``
    unique identity codes (production, repair and verification codes and the seal id: the "three codes and one seal"
    of JJF 2184-2025 / JJG 1204-2025 for retail scales) and the legally relevant software id with its checksum
    (OIML D 31:2019, WELMEC 7.2).
``counters``
    the calibration and configuration event counters of NIST HB 44 Category 1/2 sealing, each with its modulus
    (:mod:`hengqi.supervision.counters`).
``event_log``
    one entry of a HB 44 Category 3 event logger: counter, parameter id, date and time, old and new value.
``state``
    case opened/closed, self-lock and unlock (with who unlocked), level, power, zero and tare.
``transaction``
    a retail weighing: gross, tare, net (exact decimals in kg), unit price and price where the scale computes them.
``passage``
    a vehicle passage over a weighbridge: the weight curve sampled at ``rate_hz`` (at least 10 Hz), per-load-cell
    signals where the instrument has digital cells, the vehicle plate and the registered gross/tare/net.
``check``
    a check-weighing with a known test weight (nominal value and the indication).
``heartbeat``
    the agent is alive: uptime, store-and-forward queue depth, measured clock offset.
``key_press``
    a key pressed on a retail scale, with the gross indication just before and just after it (what the scale's own
    event record holds; weight added per key press is how retail cheat firmware works, reference notes s.2).
``zero_setting``
    the zero point was set (at power-on, by the zero key, or by zero-tracking): its offset from the zero of the
    last calibration, i.e. the unloaded raw reading the instrument now indicates as zero (OIML R 76-1 4.5 zero-setting
    and zero-tracking devices, recalled, not read here).

``seq`` is the agent's event sequence number for the instrument: it starts at 0, grows by one per event and never
wraps within 2**63; the platform stores each ``(instrument, seq)`` once (at-least-once delivery, deduplicated).
The JSON Schema is :func:`telemetry_json_schema`, committed as ``docs/schemas/field-telemetry.schema.json``.

>>> event = TelemetryEvent.model_validate({"instrument": "SC-0001", "seq": 7, "time": "2026-12-07T08:00:00Z",
...     "body": {"kind": "transaction", "gross_kg": "1.250", "tare_kg": "0.050", "net_kg": "1.200"}})
>>> event.body.net_kg, event.kind
(Decimal('1.200'), 'transaction')
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hengqi.supervision.counters import COUNTER_MODULI
from hengqi.supervision.errors import TelemetryError

#: Largest event sequence number (signed 64-bit, so every database stores it).
MAX_SEQ: Final = 2**63 - 1
#: Bounds that keep one event small enough to be refused cheaply when it is not.
MAX_TEXT: Final = 200
MAX_SAMPLES: Final = 100_000
MAX_CELLS: Final = 32

InstrumentId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Mass = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=18, decimal_places=9)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


class Identity(_Frozen):
    """Identity codes and software identification."""

    kind: Literal["identity"] = "identity"
    production_code: Text = ""
    repair_code: Text = ""
    verification_code: Text = ""
    seal_id: Text = ""
    software_id: Text = ""
    software_checksum: Annotated[str, Field(max_length=128, pattern=r"^[0-9A-Fa-f]*$")] = ""


class Counter(_Frozen):
    """One event counter reading and its modulus."""

    value: Annotated[int, Field(ge=0)]
    modulus: int = 1000

    @model_validator(mode="after")
    def _in_range(self) -> Counter:
        if self.modulus not in COUNTER_MODULI:
            raise ValueError(f"modulus must be one of {COUNTER_MODULI}")
        if self.value >= self.modulus:
            raise ValueError(f"value must be below the modulus {self.modulus}")
        return self


class Counters(_Frozen):
    """Calibration and configuration event counters (HB 44 Category 1/2)."""

    kind: Literal["counters"] = "counters"
    calibration: Counter
    configuration: Counter


class EventLogEntry(_Frozen):
    """One entry of a Category 3 event logger (HB 44): counter 000-999, parameter id, time, old and new value."""

    kind: Literal["event_log"] = "event_log"
    counter: Annotated[int, Field(ge=0, le=999)]
    parameter_id: Annotated[str, Field(min_length=1, max_length=64)]
    changed_at: datetime
    old_value: Text = ""
    new_value: Text


StateName = Literal[
    "case_opened",
    "case_closed",
    "self_lock",
    "unlock",
    "level_ok",
    "level_out",
    "power_on",
    "power_off",
    "zero",
    "tare",
]


class StateEvent(_Frozen):
    """A change of state; ``actor`` names who did it where the instrument knows (unlock: the authorised person)."""

    kind: Literal["state"] = "state"
    state: StateName
    actor: Text = ""
    detail: Text = ""


class Transaction(_Frozen):
    """A retail weighing (masses in kg, exact)."""

    kind: Literal["transaction"] = "transaction"
    gross_kg: Mass
    tare_kg: Mass = Decimal(0)
    net_kg: Mass
    unit_price: Mass | None = None
    price: Mass | None = None


class Passage(_Frozen):
    """A vehicle passage over a weighbridge: the weight curve (kg) and the per-cell signals (kg) at ``rate_hz``."""

    kind: Literal["passage"] = "passage"
    plate: Text = ""
    rate_hz: Annotated[float, Field(ge=10, le=10_000)]
    curve_kg: Annotated[list[float], Field(min_length=1, max_length=MAX_SAMPLES)]
    cells_kg: Annotated[list[list[float]], Field(max_length=MAX_CELLS)] = []
    gross_kg: Mass
    tare_kg: Mass = Decimal(0)
    net_kg: Mass

    @field_validator("curve_kg")
    @classmethod
    def _finite(cls, values: list[float]) -> list[float]:
        if not all(-1e12 < v < 1e12 for v in values):  # also refuses NaN
            raise ValueError("samples must be finite")
        return values

    @model_validator(mode="after")
    def _cells_match(self) -> Passage:
        for i, cell in enumerate(self.cells_kg):
            if len(cell) != len(self.curve_kg):
                raise ValueError(f"cells_kg[{i}] has {len(cell)} samples, curve_kg has {len(self.curve_kg)}")
            if not all(-1e12 < v < 1e12 for v in cell):
                raise ValueError(f"cells_kg[{i}]: samples must be finite")
        return self


class CheckWeighing(_Frozen):
    """A check with a known test weight: its conventional mass and the indication (kg)."""

    kind: Literal["check"] = "check"
    weight_id: Text = ""
    nominal_kg: Mass
    indication_kg: Mass


class Heartbeat(_Frozen):
    """The agent is alive; ``clock_offset_s`` = instrument clock minus agent clock, where measured."""

    kind: Literal["heartbeat"] = "heartbeat"
    uptime_s: Annotated[float, Field(ge=0)] = 0.0
    queue_depth: Annotated[int, Field(ge=0)] = 0
    clock_offset_s: float | None = None


class KeyPress(_Frozen):
    """A key pressed on a retail scale, with the gross indication (kg) just before and just after it."""

    kind: Literal["key_press"] = "key_press"
    key: Annotated[str, Field(min_length=1, max_length=32)]
    gross_before_kg: Mass
    gross_after_kg: Mass


class ZeroSetting(_Frozen):
    """The zero point was set: ``offset_kg`` = the unloaded raw reading now indicated as zero, relative to the zero of
    the last calibration (positive when the empty platform reads more than it did at calibration)."""

    kind: Literal["zero_setting"] = "zero_setting"
    source: Literal["power_on", "key", "tracking"]
    offset_kg: Mass


Body = Annotated[
    Identity
    | Counters
    | EventLogEntry
    | StateEvent
    | Transaction
    | Passage
    | CheckWeighing
    | Heartbeat
    | KeyPress
    | ZeroSetting,
    Field(discriminator="kind"),
]

#: Every event kind, in the order of the module docstring.
EVENT_KINDS: Final[tuple[str, ...]] = (
    "identity",
    "counters",
    "event_log",
    "state",
    "transaction",
    "passage",
    "check",
    "heartbeat",
    "key_press",
    "zero_setting",
)


class TelemetryEvent(_Frozen):
    """One event of one instrument: the envelope and its body."""

    instrument: InstrumentId
    seq: Annotated[int, Field(ge=0, le=MAX_SEQ)]
    time: datetime
    body: Body

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("time must carry a UTC offset")
        return value.astimezone(UTC)

    @property
    def kind(self) -> str:
        """The body's kind."""
        return self.body.kind

    def canonical_json(self) -> str:
        """Compact JSON with sorted keys: what the platform hashes to tell a true duplicate from a forged one."""
        return canonical_text(self.model_dump(mode="json"))


def canonical_text(dumped: dict[str, Any]) -> str:
    """The canonical JSON of an event already dumped with ``model_dump(mode="json")`` (the ingest dumps each event
    once and uses the dump both for this text and for the stored body).

    >>> canonical_text({"seq": 1, "body": {"kind": "heartbeat"}})
    '{"body":{"kind":"heartbeat"},"seq":1}'
    """
    return json.dumps(dumped, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_and_body(dumped: dict[str, Any]) -> tuple[str, str]:
    """The canonical JSON of a dumped event and, as a slice of it, the canonical JSON of its body.

    The envelope's keys are ``body``, ``instrument``, ``seq`` and ``time``, so the body comes first in sorted order
    and the event's text is ``{"body":`` + the body's text + the rest: the ingest serialises each body once.

    >>> dumped = {"instrument": "A", "seq": 1, "time": "2026-01-01T00:00:00Z", "body": {"kind": "heartbeat"}}
    >>> canonical_and_body(dumped)[0] == canonical_text(dumped)
    True
    >>> canonical_and_body(dumped)[1]
    '{"kind":"heartbeat"}'
    """
    body = json.dumps(dumped["body"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    rest = {k: v for k, v in dumped.items() if k != "body"}
    tail = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return '{"body":' + body + ("," + tail[1:] if len(tail) > 2 else "}"), body


class EventRecord(NamedTuple):
    """What the ingest stores of one validated event: the envelope, the canonical JSON of the event (what its digest
    is taken of) and of its body (what is stored), and the model itself where the ingest still needs it.

    ``event`` is None when the event was checked and serialised without building the model
    (:func:`hengqi.supervision.mapping.records_from_payload`, for plain bodies that change nothing in the device's
    status); the texts are then the ones :func:`record_of` gives for the same event.
    """

    instrument: str
    seq: int
    time: datetime
    kind: str
    canonical: str
    body_text: str
    event: TelemetryEvent | None = None


def record_of(event: TelemetryEvent) -> EventRecord:
    """The record of a validated event: one ``model_dump`` and :func:`canonical_and_body`.

    >>> r = record_of(TelemetryEvent(instrument="A", seq=1, time=datetime(2026, 1, 1, tzinfo=UTC), body=Heartbeat()))
    >>> r.canonical
    '{"body":{"clock_offset_s":null,"kind":"heartbeat","queue_depth":0,"uptime_s":0.0},"instrument":"A","seq":1,"time":"2026-01-01T00:00:00Z"}'
    """
    canonical, body_text = canonical_and_body(event.model_dump(mode="json"))
    return EventRecord(event.instrument, event.seq, event.time, event.body.kind, canonical, body_text, event)


def parse_event(data: Any, *, path: str = "event") -> TelemetryEvent:
    """Validate one event (a mapping from JSON); :class:`TelemetryError` naming the first bad field.

    >>> parse_event({"instrument": "A", "seq": -1, "time": "2026-01-01T00:00:00Z", "body": {"kind": "heartbeat"}})
    Traceback (most recent call last):
    ...
    hengqi.supervision.errors.TelemetryError: event.seq: Input should be greater than or equal to 0
    """
    try:
        return TelemetryEvent.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if not (isinstance(p, str) and p in EVENT_KINDS))
        raise TelemetryError(f"{path}.{where}" if where else path, first["msg"]) from None


def telemetry_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one telemetry event."""
    schema = TelemetryEvent.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "field-telemetry.schema.json",
        **schema,
    }


def schema_text() -> str:
    """The schema as committed in ``docs/schemas/field-telemetry.schema.json``."""
    return json.dumps(telemetry_json_schema(), indent=2, ensure_ascii=False) + "\n"


def utc_from_ms(ms: int) -> datetime:
    """A UTC time from milliseconds since the Unix epoch (Sparkplug B timestamps)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def ms_from_utc(time: datetime) -> int:
    """Milliseconds since the Unix epoch (rounded down), as Sparkplug B timestamps are."""
    delta = time - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
