"""Detector workers on JetStream: durable pull consumers, one per partition, with their state in a key-value bucket.

A worker serves the partitions whose lease it holds (``lease.<p>`` in the bucket, renewed by rewriting it every
``renew_s``).  It first takes its own partitions (:func:`hengqi.supervision.streams.partitions_of`), then any
partition whose lease has not moved for ``ttl_s`` (its owner died) -- a worker waits ``2 * ttl_s`` before taking
another worker's partition, so that a restarted owner wins its own back.

Per partition and batch (exactly once for alerts, see ``docs/scale-out.md``):

1. fetch up to ``batch`` events from the partition's durable consumer ``<namespace>-p<k>-<lease revision>``;
2. per instrument: its profile and state from the bucket (cached while the lease is held), events with a seq at
   or below the state's watermark skipped (a re-publish or a re-delivery), the pure detectors
   (:func:`hengqi.supervision.detectors.fleet.run_instrument`) over the rest;
3. the findings published to the alerts stream with ``Nats-Msg-Id`` = the finding id (the server keeps one);
4. each instrument's new state written with compare-and-set on its revision, then the partition's position;
5. the batch acknowledged.

A worker that dies anywhere in 1-5 is replaced by one that deletes its consumer and creates its own at the committed
position + 1: events already folded into an instrument's state are skipped by the watermark, findings already
published are dropped by their id.  A compare-and-set that fails means another worker holds the partition: this
one stops serving it without acknowledging.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import api as js_api
from nats.js import errors as js_errors
from nats.js.kv import KeyValue

from hengqi.server.field.jetstream import PUBLISHED_HEADER, StreamLayout
from hengqi.supervision.detectors.fleet import DetectorStates, InstrumentProfile, run_instrument
from hengqi.supervision.errors import TelemetryError
from hengqi.supervision.streams import (
    LeaseView,
    finding_id,
    lease_key,
    partition_filter,
    partitions_of,
    position_key,
    profile_from_json,
    profile_key,
    state_key,
    token,
)
from hengqi.supervision.telemetry import TelemetryEvent, parse_event

_NO_REVISION: Final = 0
#: A key never written, or deleted (a released lease, a state removed by hand).
_MISSING: Final = (js_errors.KeyNotFoundError, js_errors.KeyDeletedError)


class LeaseLost(Exception):
    """A compare-and-set failed: another worker serves the partition now."""


@dataclass
class WorkerStats:
    """Running totals of one worker (logs, tests, the benchmark)."""

    events: int = 0
    skipped: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    findings: int = 0
    alerts_published: int = 0
    alerts_duplicate: int = 0
    batches: int = 0
    acquired: list[tuple[int, float]] = field(default_factory=list)  # (partition, wall time) of each take-over
    lost: list[int] = field(default_factory=list)
    first_batch_at: float | None = None  # wall time the first batch arrived (benchmark)
    latencies_s: list[float] = field(default_factory=list)  # publish -> state committed, per event
    alert_latencies_s: list[float] = field(default_factory=list)  # publish of the last event -> alert acked

    def summary(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "skipped": self.skipped,
            "refused": dict(self.refused),
            "findings": self.findings,
            "alerts_published": self.alerts_published,
            "alerts_duplicate": self.alerts_duplicate,
            "batches": self.batches,
            "acquired": [p for p, _t in self.acquired],
        }


@dataclass
class _Instrument:
    profile: InstrumentProfile | None
    states: DetectorStates
    watermark: int
    revision: int


class DetectorWorker:
    """One worker process's share of the partitions (see the module docstring)."""

    def __init__(
        self,
        nc: Client,
        kv: KeyValue,
        layout: StreamLayout,
        *,
        name: str,
        worker: int = 0,
        workers: int = 1,
        batch: int = 500,
        ttl_s: float = 2.0,
        renew_s: float = 0.4,
        take_over: bool = True,
        keep_latencies: bool = False,
    ) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.kv = kv
        self.layout = layout
        self.name = name
        self.own = partitions_of(worker, workers, layout.partitions)
        self.batch = batch
        self.ttl_s = ttl_s
        self.renew_s = renew_s
        self.take_over = take_over
        self.keep_latencies = keep_latencies
        self.stats = WorkerStats()
        self._leases: dict[int, int] = {}  # partition -> revision of our lease entry
        self._views: dict[int, LeaseView] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._ended: list[asyncio.Task[None]] = []  # tasks of partitions given up, awaited on the way out
        self._serving: dict[int, asyncio.Task[None]] = {}  # the one task that may serve each partition

    # -- leases -------------------------------------------------------------------------------------------------
    def _lease_value(self) -> bytes:
        return json.dumps({"owner": self.name, "at": time.time()}).encode()

    async def _try_acquire(self, partition: int, now: float) -> bool:
        """Take the lease of ``partition`` if it is free: never held (or released) and one of ours, or unchanged
        for ``ttl_s`` (ours) or ``2 * ttl_s`` (another worker's: its owner may be starting or restarting)."""
        key = lease_key(partition)
        try:
            entry = await self.kv.get(key)
            revision = entry.revision or _NO_REVISION
            owner = json.loads(entry.value).get("owner") if entry.value else None
        except _MISSING:
            revision, owner = _NO_REVISION, None
        _position, committed = await self._position(partition)  # a committed batch also shows the owner alive
        view = self._views.get(partition)
        seen = (revision << 32) | committed
        self._views[partition] = view = (view or LeaseView(seen, now)).observe(seen, now)
        mine = partition in self.own
        # free and ours, or our own lease from before a restart under the same name: take it now
        at_once = owner == self.name or (owner is None and mine)
        patience = 0.0 if at_once else (self.ttl_s if mine else 2 * self.ttl_s)
        if patience and not view.expired(now, patience):
            return False
        try:
            if revision == _NO_REVISION or owner is None:
                new = await self.kv.create(key, self._lease_value())
            else:
                new = await self.kv.update(key, self._lease_value(), last=revision)
        except js_errors.KeyWrongLastSequenceError:
            return False
        self._leases[partition] = new
        return True

    async def _renew(self, partition: int) -> bool:
        try:
            self._leases[partition] = await self.kv.update(
                lease_key(partition), self._lease_value(), last=self._leases[partition]
            )
        except js_errors.KeyWrongLastSequenceError:
            return False
        return True

    def _drop(self, partition: int) -> None:
        self._leases.pop(partition, None)
        self._serving.pop(partition, None)
        task = self._tasks.pop(partition, None)
        if task is not None:
            task.cancel()
            self._ended.append(task)
        self.stats.lost.append(partition)

    async def run(self, stop: asyncio.Event) -> None:
        """Serve partitions until ``stop`` is set; leases are released on the way out."""
        try:
            while not stop.is_set():
                now = time.monotonic()
                for partition in list(self._leases):
                    task = self._tasks.get(partition)
                    if task is not None and task.done():
                        self._drop(partition)  # the partition loop ended (lost compare-and-set)
                    elif not await self._renew(partition):
                        self._drop(partition)
                candidates = [p for p in range(self.layout.partitions) if p not in self._leases]
                if not self.take_over:
                    candidates = [p for p in candidates if p in self.own]
                for partition in candidates:
                    if await self._try_acquire(partition, now):
                        self.stats.acquired.append((partition, time.time()))
                        task = asyncio.create_task(self._serve(partition, stop))
                        self._tasks[partition] = self._serving[partition] = task
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.renew_s)
        finally:
            for task in self._tasks.values():
                task.cancel()
            await asyncio.gather(*self._tasks.values(), *self._ended, return_exceptions=True)
            for partition, revision in list(self._leases.items()):
                with contextlib.suppress(js_errors.KeyWrongLastSequenceError, js_errors.Error):
                    await self.kv.delete(lease_key(partition), last=revision)
            self._leases.clear()

    # -- one partition ------------------------------------------------------------------------------------------
    async def _position(self, partition: int) -> tuple[int, int]:
        try:
            entry = await self.kv.get(position_key(partition))
        except _MISSING:
            return 0, _NO_REVISION
        return int(entry.value or b"0"), entry.revision or _NO_REVISION

    async def _serve(self, partition: int, stop: asyncio.Event) -> None:
        position, revision = await self._position(partition)
        # one durable consumer per lease: a worker that lost its lease while paused (not dead) pulls from a consumer
        # that is gone, never from its successor's, so each worker reads a contiguous run of the partition
        prefix = f"{self.layout.namespace}-p{partition}-"
        durable = f"{prefix}{self._leases[partition]}"
        for info in await self.js.consumers_info(self.layout.stream):
            if info.name.startswith(prefix):
                with contextlib.suppress(js_errors.NotFoundError):
                    await self.js.delete_consumer(self.layout.stream, info.name)
        config = js_api.ConsumerConfig(
            durable_name=durable,
            ack_policy=js_api.AckPolicy.ALL,
            ack_wait=30,
            max_ack_pending=-1,
            filter_subject=partition_filter(self.layout.prefix, partition),
            deliver_policy=js_api.DeliverPolicy.BY_START_SEQUENCE if position else js_api.DeliverPolicy.ALL,
            opt_start_seq=position + 1 if position else None,
        )
        await self.js.add_consumer(self.layout.stream, config)
        sub = await self.js.pull_subscribe_bind(durable, self.layout.stream)
        cache: dict[str, _Instrument] = {}  # this task's own: a task given up never shares its successor's
        me = asyncio.current_task()
        try:
            while not stop.is_set() and self._serving.get(partition) is me:
                try:
                    msgs = await sub.fetch(self.batch, timeout=0.25)
                except (TimeoutError, js_errors.FetchTimeoutError):
                    continue
                except nats.errors.ConnectionClosedError:
                    return
                if not msgs:
                    continue
                try:
                    if self._serving.get(partition) is not me:
                        return  # given up while fetching: not ours to process
                    revision = await self._process(partition, msgs, revision, cache)
                except LeaseLost:
                    return
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _instrument(self, cache: dict[str, _Instrument], instrument: str) -> _Instrument:
        known = cache.get(instrument)
        if known is not None:
            return known
        try:
            profile: InstrumentProfile | None = profile_from_json(
                (await self.kv.get(profile_key(instrument))).value or b""
            )
        except (*_MISSING, KeyError, ValueError, TypeError):
            profile = None
        try:
            entry = await self.kv.get(state_key(instrument))
            raw = json.loads(entry.value or b"{}")
            known = _Instrument(
                profile, DetectorStates.from_json(raw["states"]), int(raw["watermark"]), entry.revision or 0
            )
        except _MISSING:
            known = _Instrument(profile, DetectorStates(), -1, _NO_REVISION)
        cache[instrument] = known
        return known

    def _parse(self, msgs: list[Msg]) -> dict[str, tuple[str, list[TelemetryEvent]]]:
        grouped: dict[str, tuple[str, list[TelemetryEvent]]] = {}
        for msg in msgs:
            try:
                event = parse_event(json.loads(msg.data))
            except (TelemetryError, ValueError):
                self.stats.refused["malformed"] += 1
                continue
            org = msg.subject.split(".")[-3]
            grouped.setdefault(event.instrument, (org, []))[1].append(event)
        return grouped

    async def _process(
        self, partition: int, msgs: list[Msg], position_revision: int, cache: dict[str, _Instrument]
    ) -> int:
        if self.stats.first_batch_at is None:
            self.stats.first_batch_at = time.time()
        grouped = self._parse(msgs)
        alerts: list[asyncio.Future[Any]] = []
        alert_born: list[float] = []
        writes: list[tuple[str, _Instrument, DetectorStates, int]] = []
        for instrument, (org, events) in grouped.items():
            known = await self._instrument(cache, instrument)
            fresh = sorted((e for e in events if e.seq > known.watermark), key=lambda e: e.seq)
            self.stats.skipped += len(events) - len(fresh)
            if not fresh:
                continue
            if known.profile is None:
                self.stats.refused["no_profile"] += len(fresh)
                continue
            states, findings = run_instrument(known.profile, fresh, known.states)
            await asyncio.sleep(0)  # let the lease renewal run between instruments of a large batch
            self.stats.events += len(fresh)
            for finding in findings:
                body = {"id": finding_id(finding), "org": org, **finding.to_json()}
                subject = f"{self.layout.alert_prefix}.{org}.{token(instrument)}"
                alerts.append(
                    await self.js.publish_async(
                        subject, json.dumps(body).encode(), headers={"Nats-Msg-Id": str(body["id"])}
                    )
                )
                alert_born.append(_published_at(msgs, instrument, max(finding.seqs, default=fresh[-1].seq)))
            self.stats.findings += len(findings)
            writes.append((instrument, known, states, fresh[-1].seq))
        for ack in await asyncio.gather(*alerts):
            if ack.duplicate:
                self.stats.alerts_duplicate += 1
            else:
                self.stats.alerts_published += 1
        if alert_born:
            now = time.time()
            self.stats.alert_latencies_s.extend(now - born for born in alert_born if born > 0)
        await asyncio.gather(*(self._commit(i, k, s, w) for i, k, s, w in writes))
        last = msgs[-1]
        stream_seq = last.metadata.sequence.stream
        try:
            if position_revision == _NO_REVISION:
                position_revision = await self.kv.create(position_key(partition), str(stream_seq).encode())
            else:
                position_revision = await self.kv.update(
                    position_key(partition), str(stream_seq).encode(), last=position_revision
                )
        except js_errors.KeyWrongLastSequenceError:
            raise LeaseLost from None
        await last.ack()
        self.stats.batches += 1
        if self.keep_latencies:
            now = time.time()
            self.stats.latencies_s.extend(
                now - int(m.header[PUBLISHED_HEADER]) / 1e9 for m in msgs if m.header and PUBLISHED_HEADER in m.header
            )
        return position_revision

    async def _commit(self, instrument: str, known: _Instrument, states: DetectorStates, watermark: int) -> None:
        value = json.dumps({"watermark": watermark, "states": states.to_json()}, separators=(",", ":")).encode()
        try:
            if known.revision == _NO_REVISION:
                known.revision = await self.kv.create(state_key(instrument), value)
            else:
                known.revision = await self.kv.update(state_key(instrument), value, last=known.revision)
        except js_errors.KeyWrongLastSequenceError:
            raise LeaseLost from None
        known.states = states
        known.watermark = watermark


def _published_at(msgs: list[Msg], instrument: str, seq: int) -> float:
    """The publish time (s since the epoch) of ``instrument``'s event ``seq`` in this batch, else 0."""
    wanted = f"{instrument}:{seq}"
    for msg in msgs:
        if msg.header and msg.header.get("Nats-Msg-Id") == wanted and PUBLISHED_HEADER in msg.header:
            return int(msg.header[PUBLISHED_HEADER]) / 1e9
    return 0.0
