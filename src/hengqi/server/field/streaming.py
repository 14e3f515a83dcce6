"""Blocking entry points for the command line: the MQTT bridge, a detector worker, publishing a simulated field.

Each runs its own asyncio loop until ``duration`` seconds have passed or SIGINT/SIGTERM arrives, and returns its
statistics; a NATS or broker that cannot be reached is a :class:`hengqi.errors.HengqiError` with one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from nats.js import errors as js_errors

from hengqi.server.field.consumer import DetectorWorker, WorkerStats
from hengqi.server.field.jetstream import (
    PublishResult,
    StreamLayout,
    connect,
    ensure,
    pairs,
    publish_events,
    put_profiles,
    stored_partitions,
)
from hengqi.supervision.broker import BrokerAddress
from hengqi.supervision.detectors.fleet import profiles_from_field
from hengqi.supervision.fieldsim import FieldData
from hengqi.supervision.streams import DEFAULT_PARTITIONS, StreamAddress

if TYPE_CHECKING:
    from hengqi.server.field.bridge import BridgeStats

T = TypeVar("T")


async def _until(stop: asyncio.Event, duration: float | None) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    if duration is None:
        await stop.wait()
    else:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
    stop.set()


async def layout_for(address: StreamAddress, namespace: str, partitions: int | None) -> StreamLayout:
    """The layout of ``namespace``: the partition count given, else the one it was made with, else the default."""
    if partitions is not None:
        return StreamLayout(namespace, partitions)
    nc = await connect(address)
    try:
        return StreamLayout(namespace, await stored_partitions(nc, namespace))
    except (js_errors.BucketNotFoundError, js_errors.KeyNotFoundError, js_errors.NotFoundError):
        return StreamLayout(namespace, DEFAULT_PARTITIONS)
    finally:
        await nc.close()


def run_sync(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine factory in a fresh loop."""

    async def main() -> T:
        return await make()

    return asyncio.run(main())


async def bridge(
    address: StreamAddress, layout: StreamLayout, broker: BrokerAddress, *, client_id: str, duration: float | None
) -> BridgeStats:
    """Run the MQTT -> JetStream bridge (:mod:`hengqi.server.field.bridge`)."""
    from hengqi.server.field.bridge import MqttBridge  # paho and the MQTT ingest: not needed by detector workers

    nc = await connect(address)
    try:
        await ensure(nc, layout)
        worker = await MqttBridge(nc.jetstream(), layout, broker, client_id=client_id).start()
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await _until(stop, duration)
            await task
        finally:
            worker.stop()
        return worker.stats
    finally:
        await nc.close()


async def detect(
    address: StreamAddress,
    layout: StreamLayout,
    *,
    name: str,
    worker: int,
    workers: int,
    batch: int,
    take_over: bool,
    duration: float | None,
) -> WorkerStats:
    """Run one detector worker (:mod:`hengqi.server.field.consumer`)."""
    nc = await connect(address)
    try:
        kv = await ensure(nc, layout)
        runner = DetectorWorker(
            nc, kv, layout, name=name, worker=worker, workers=workers, batch=batch, take_over=take_over
        )
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        await _until(stop, duration)
        await task
        return runner.stats
    finally:
        await nc.close()


async def stream_sync(
    address: StreamAddress, layout: StreamLayout, database: Any, *, duration: float | None, refresh_s: float = 60.0
) -> tuple[int, Any]:
    """Profiles of the registered devices into the bucket (again every ``refresh_s``), alerts into the database."""
    from hengqi.server.field.sink import push_profiles, sink_alerts  # the database: not needed by the workers

    nc = await connect(address)
    try:
        kv = await ensure(nc, layout)
        profiles = await push_profiles(kv, database)
        stop = asyncio.Event()
        sink = asyncio.create_task(sink_alerts(nc, layout, database, stop))

        async def refresh() -> None:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), refresh_s)
                if not stop.is_set():
                    await push_profiles(kv, database)

        refresher = asyncio.create_task(refresh())
        await _until(stop, duration)
        await refresher
        return profiles, await sink
    finally:
        await nc.close()


async def publish_field(address: StreamAddress, layout: StreamLayout, data: FieldData) -> tuple[int, PublishResult]:
    """Publish a simulated field straight into JetStream: its profiles into the bucket, its events on their subjects."""
    nc = await connect(address)
    try:
        kv = await ensure(nc, layout)
        profiles = await put_profiles(kv, profiles_from_field(data))
        groups = {i.device_id: i.group for i in data.instruments}
        result = await publish_events(nc.jetstream(), layout, pairs(data.events, groups))
        return profiles, result
    finally:
        await nc.close()
