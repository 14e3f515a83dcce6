"""The platform's side of the JetStream path: profiles into the bucket, the alerts stream into the database.

:func:`push_profiles` writes each registered field device's detector profile (registry instrument, site kind,
work orders: :func:`hengqi.server.alerts.service.device_profiles`) under ``profile.<instrument>``; the workers read
it when they first meet the instrument.  :func:`sink_alerts` reads the alerts stream with a durable consumer and
stores each finding through :func:`hengqi.server.alerts.service.record_findings` -- the same idempotent alert keys
as the embedded ``hengqi field detect``, so a finding delivered twice is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime
from typing import Any

import nats.errors
from nats.aio.client import Client
from nats.js import api as js_api
from nats.js import errors as js_errors
from nats.js.kv import KeyValue

from hengqi.server.alerts.service import RecordResult, device_profiles, record_findings
from hengqi.server.audit import Actor
from hengqi.server.db.engine import Database
from hengqi.server.field.jetstream import StreamLayout, put_profiles
from hengqi.supervision.detectors import Finding


def finding_from_json(data: dict[str, Any]) -> Finding:
    """The inverse of :meth:`Finding.to_json` (as published on the alerts stream)."""
    return Finding(
        instrument=data["instrument"],
        detector=data["detector"],
        rule=data["rule"],
        time=datetime.fromisoformat(data["time"]),
        seqs=tuple(int(s) for s in data["seqs"]),
        threshold=data["threshold"],
        observed=data["observed"],
        source=data["source"],
        message=data["message"],
        excerpt=tuple(float(x) for x in data.get("excerpt", ())),
        excerpt_rate_hz=data.get("excerpt_rate_hz"),
        details=tuple((str(k), str(v)) for k, v in dict(data.get("details", {})).items()),
    )


async def push_profiles(kv: KeyValue, database: Database) -> int:
    """Write every registered field device's profile into the bucket; the number written."""

    def read() -> list[Any]:
        with database.read_session() as session:
            return device_profiles(session)

    return await put_profiles(kv, await asyncio.to_thread(read))


def _store(database: Database, findings: list[Finding], actor: Actor) -> RecordResult:
    with database.write_session() as session:
        result = record_findings(session, findings, actor=actor)
        session.commit()
        return result


async def sink_alerts(
    nc: Client, layout: StreamLayout, database: Database, stop: asyncio.Event, *, batch: int = 200
) -> RecordResult:
    """Store the alerts stream's findings as alerts until ``stop`` is set; totals of what was stored."""
    js = nc.jetstream()
    durable = f"{layout.namespace}-alerts-db"
    config = js_api.ConsumerConfig(
        durable_name=durable, ack_policy=js_api.AckPolicy.ALL, ack_wait=60, max_ack_pending=-1
    )
    sub = await js.pull_subscribe(f"{layout.alert_prefix}.>", durable=durable, stream=layout.alerts, config=config)
    actor = Actor(None, "hengqi field stream-sync")
    totals = RecordResult(0, 0, 0, ())
    try:
        while not stop.is_set():
            try:
                msgs = await sub.fetch(batch, timeout=0.5)
            except (TimeoutError, js_errors.FetchTimeoutError):
                continue
            except nats.errors.ConnectionClosedError:
                break
            if not msgs:
                continue  # nats-py answers an empty batch for a request that expired at the server
            findings = [finding_from_json(json.loads(m.data)) for m in msgs]
            result = await asyncio.to_thread(_store, database, findings, actor)
            totals = RecordResult(
                totals.created + result.created,
                totals.updated + result.updated,
                totals.unchanged + result.unchanged,
                tuple(sorted(set(totals.unknown_devices) | set(result.unknown_devices))),
            )
            await msgs[-1].ack()
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    return totals
