"""The NATS JetStream adapter of field supervision: the streams and bucket, publishing events and profiles.

Layout (one :class:`StreamLayout` per namespace, ``hengqi`` by default; ``docs/scale-out.md``):

- stream ``HENGQI_FIELD`` on ``hengqi.field.>``: the events, one subject per instrument
  (:func:`hengqi.supervision.streams.instrument_subject`), each published with ``Nats-Msg-Id = instrument:seq``
  so that a second publish inside the duplicate window is dropped by the server;
- stream ``HENGQI_ALERTS`` on ``hengqi.alerts.>``: the detectors' findings, ``Nats-Msg-Id`` = the finding id;
- key-value bucket ``hengqi-field``: ``config.partitions``, each instrument's profile and detector state, each
  partition's committed stream sequence and its lease (:mod:`hengqi.server.field.consumer`).

The pure naming and bookkeeping is in :mod:`hengqi.supervision.streams`; this module only talks to the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import nats
import nats.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js import errors as js_errors
from nats.js.kv import KeyValue

from hengqi.errors import HengqiError, InputError
from hengqi.supervision.detectors.fleet import InstrumentProfile
from hengqi.supervision.streams import (
    DEFAULT_PARTITIONS,
    StreamAddress,
    event_msg_id,
    instrument_subject,
    profile_key,
    profile_to_json,
)
from hengqi.supervision.telemetry import TelemetryEvent

#: Header carrying the publisher's wall clock (ns since the epoch): the end-to-end latency is measured from it.
PUBLISHED_HEADER: Final = "Hengqi-Published-Ns"
PARTITIONS_KEY: Final = "config.partitions"
_NAMESPACE: Final = re.compile(r"[a-z][a-z0-9_-]{0,31}")


@dataclass(frozen=True, slots=True)
class StreamLayout:
    """The names of one deployment's streams, subjects and bucket (see the module docstring)."""

    namespace: str = "hengqi"
    partitions: int = DEFAULT_PARTITIONS
    #: The events' duplicate window: the server keeps every msg id of the window in memory (at 116 667 messages/s,
    #: 2 min is 14 million ids); a re-publish later than that is skipped by the workers' watermark instead.
    duplicate_window_s: float = 120.0
    #: The alerts' window: alerts are few, and a replacement worker must resume inside it to publish no copy.
    alert_duplicate_window_s: float = 3600.0

    def __post_init__(self) -> None:
        if not _NAMESPACE.fullmatch(self.namespace):
            raise InputError("--namespace", "use 1 to 32 of a-z, 0-9, '_' and '-', starting with a letter")
        if not 1 <= self.partitions <= 1024:
            raise InputError("--partitions", "must be in 1..1024")

    @property
    def stream(self) -> str:
        return f"{self.namespace.upper().replace('-', '_')}_FIELD"

    @property
    def alerts(self) -> str:
        return f"{self.namespace.upper().replace('-', '_')}_ALERTS"

    @property
    def bucket(self) -> str:
        return f"{self.namespace}-field"

    @property
    def prefix(self) -> str:
        return f"{self.namespace}.field"

    @property
    def alert_prefix(self) -> str:
        return f"{self.namespace}.alerts"


async def connect(address: StreamAddress, *, timeout_s: float = 2.0) -> Client:
    """Connect to NATS and check that JetStream answers; :class:`HengqiError` (one line) when either fails."""

    async def _quiet(_err: Exception) -> None:  # nats-py logs each failed attempt unless given a callback
        return None

    try:
        nc = await nats.connect(
            address.url(),
            connect_timeout=timeout_s,
            allow_reconnect=True,
            max_reconnect_attempts=5,
            reconnect_time_wait=0.5,
            error_cb=_quiet,
        )
    except (OSError, TimeoutError, nats.errors.Error) as err:
        raise HengqiError(f"cannot reach NATS at {address.display()}: {err or type(err).__name__}") from None
    try:
        await nc.jetstream().account_info()
    except (TimeoutError, nats.errors.Error) as err:
        await nc.close()
        raise HengqiError(f"NATS at {address.display()} does not answer JetStream requests: {err}") from None
    return nc


async def ensure(nc: Client, layout: StreamLayout) -> KeyValue:
    """Create the two streams and the bucket where missing; refuse a partition count other than the stored one."""
    js = nc.jetstream()
    for name, subjects, window in (
        (layout.stream, layout.prefix, layout.duplicate_window_s),
        (layout.alerts, layout.alert_prefix, layout.alert_duplicate_window_s),
    ):
        try:
            await js.stream_info(name)
        except js_errors.NotFoundError:
            await js.add_stream(
                js_api.StreamConfig(
                    name=name,
                    subjects=[f"{subjects}.>"],
                    storage=js_api.StorageType.FILE,
                    retention=js_api.RetentionPolicy.LIMITS,
                    duplicate_window=window,
                )
            )
    try:
        kv = await js.key_value(layout.bucket)
    except js_errors.BucketNotFoundError:
        kv = await js.create_key_value(js_api.KeyValueConfig(bucket=layout.bucket, history=1))
    try:
        stored = int((await kv.get(PARTITIONS_KEY)).value or b"0")
    except js_errors.KeyNotFoundError:
        with contextlib.suppress(js_errors.KeyWrongLastSequenceError):  # else another process made it first
            await kv.create(PARTITIONS_KEY, str(layout.partitions).encode())
        stored = int((await kv.get(PARTITIONS_KEY)).value or b"0")
    if stored != layout.partitions:
        raise InputError("--partitions", f"the stream {layout.stream} was made with {stored} partitions")
    return kv


async def stored_partitions(nc: Client, layout_namespace: str) -> int:
    """The partition count a namespace was made with (for workers that are not told)."""
    kv = await nc.jetstream().key_value(StreamLayout(layout_namespace).bucket)
    return int((await kv.get(PARTITIONS_KEY)).value or b"0")


async def remove(nc: Client, layout: StreamLayout) -> None:
    """Delete the streams and the bucket of ``layout`` (tests and benchmarks clean up with this)."""
    js = nc.jetstream()
    for name in (layout.stream, layout.alerts):
        with contextlib.suppress(js_errors.NotFoundError):
            await js.delete_stream(name)
    with contextlib.suppress(js_errors.NotFoundError, js_errors.BucketNotFoundError):
        await js.delete_key_value(layout.bucket)


@dataclass
class PublishResult:
    """What a publish did: events the stream stored and those it dropped as duplicates (same msg id)."""

    stored: int = 0
    duplicates: int = 0


async def publish_events(
    js: JetStreamContext, layout: StreamLayout, events: Iterable[tuple[str, TelemetryEvent]]
) -> PublishResult:
    """Publish (org, event) pairs on their instruments' subjects, pipelined; returns when the server has acked all."""
    futures: list[asyncio.Future[Any]] = []
    for org, event in events:
        subject = instrument_subject(layout.prefix, org, event.instrument, layout.partitions)
        headers = {"Nats-Msg-Id": event_msg_id(event.instrument, event.seq), PUBLISHED_HEADER: str(time.time_ns())}
        futures.append(await js.publish_async(subject, event.canonical_json().encode(), headers=headers))
    result = PublishResult()
    for ack in await asyncio.gather(*futures):
        if ack.duplicate:
            result.duplicates += 1
        else:
            result.stored += 1
    return result


async def put_profiles(kv: KeyValue, profiles: Iterable[InstrumentProfile]) -> int:
    """Write instrument profiles into the bucket (the platform does this from its registry; the simulator too)."""
    count = 0
    for profile in profiles:
        await kv.put(profile_key(profile.instrument), profile_to_json(profile))
        count += 1
    return count


async def read_alerts(nc: Client, layout: StreamLayout, *, timeout_s: float = 1.0) -> list[dict[str, Any]]:
    """Every message of the alerts stream, in order (tests, benchmarks, the sink into the database)."""
    js = nc.jetstream()
    info = await js.stream_info(layout.alerts)
    total = info.state.messages
    out: list[dict[str, Any]] = []
    if total == 0:
        return out
    sub = await js.pull_subscribe(
        f"{layout.alert_prefix}.>",
        stream=layout.alerts,
        config=js_api.ConsumerConfig(ack_policy=js_api.AckPolicy.NONE, deliver_policy=js_api.DeliverPolicy.ALL),
    )
    try:
        while len(out) < total:
            try:
                msgs = await sub.fetch(min(1000, total - len(out)), timeout=timeout_s)
            except TimeoutError:
                break
            if not msgs:
                break  # an empty batch (request expired at the server): what is there has been read
            out.extend(json.loads(m.data) for m in msgs)
    finally:
        await sub.unsubscribe()
    return out


def org_of(groups: Mapping[str, str], instrument: str) -> str:
    """The operator (Sparkplug group) of an instrument, '' when unknown."""
    return groups.get(instrument, "")


def pairs(events: Sequence[TelemetryEvent], groups: Mapping[str, str]) -> list[tuple[str, TelemetryEvent]]:
    """(org, event) pairs for :func:`publish_events`."""
    return [(org_of(groups, e.instrument), e) for e in events]
