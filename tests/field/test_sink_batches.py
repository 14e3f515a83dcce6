"""The alerts sink and the alerts reader take an empty batch in their stride.

nats-py's pull ``fetch`` answers an empty list (not a timeout) when the server lets a pull request expire between
two messages; CI met it once (``IndexError`` on ``msgs[-1]``).  The server's timing cannot be forced, so these
tests stand a subscription in for the JetStream one and hand the loops an empty batch.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from nats.aio.client import Client

from hengqi.server.db.engine import Database
from hengqi.server.field.jetstream import StreamLayout, read_alerts
from hengqi.server.field.sink import sink_alerts


class _EmptySub:
    def __init__(self, stop: asyncio.Event | None, batches: int) -> None:
        self.stop, self.batches, self.fetches, self.unsubscribed = stop, batches, 0, False

    async def fetch(self, batch: int, timeout: float) -> list[Any]:
        self.fetches += 1
        await asyncio.sleep(0)  # a real fetch yields to the loop
        if self.fetches >= self.batches and self.stop is not None:
            self.stop.set()
        return []

    async def unsubscribe(self) -> None:
        self.unsubscribed = True


class _JetStream:
    def __init__(self, sub: _EmptySub, messages: int = 0) -> None:
        self.sub, self.messages = sub, messages

    async def pull_subscribe(self, *args: Any, **kwargs: Any) -> _EmptySub:
        return self.sub

    async def stream_info(self, name: str) -> Any:
        class _State:
            messages = self.messages

        class _Info:
            state = _State()

        return _Info()


class _Client:
    def __init__(self, jetstream: _JetStream) -> None:
        self._js = jetstream

    def jetstream(self) -> _JetStream:
        return self._js


def test_the_sink_goes_on_past_empty_batches_and_stores_nothing() -> None:
    async def main() -> tuple[Any, _EmptySub]:
        stop = asyncio.Event()
        sub = _EmptySub(stop, batches=3)
        client = cast(Client, _Client(_JetStream(sub)))
        totals = await sink_alerts(client, StreamLayout("t"), cast(Database, None), stop)
        return totals, sub

    totals, sub = asyncio.run(main())
    assert sub.fetches == 3
    assert sub.unsubscribed
    assert (totals.created, totals.updated, totals.unchanged, totals.unknown_devices) == (0, 0, 0, ())


def test_the_alerts_reader_stops_at_an_empty_batch_instead_of_spinning() -> None:
    async def main() -> tuple[list[dict[str, Any]], _EmptySub]:
        sub = _EmptySub(None, batches=1)
        client = cast(Client, _Client(_JetStream(sub, messages=5)))
        return await asyncio.wait_for(read_alerts(client, StreamLayout("t")), 5), sub

    alerts, sub = asyncio.run(main())
    assert alerts == []
    assert sub.fetches == 1
    assert sub.unsubscribed
