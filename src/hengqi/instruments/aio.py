"""An asyncio face over a blocking :class:`~hengqi.instruments.scale.Scale`.

Blocking I/O never runs on the event loop: each call goes to a worker thread with :func:`asyncio.to_thread`,
and an :class:`asyncio.Lock` keeps calls in order.

>>> import asyncio
>>> from hengqi.instruments.simulator import Simulator
>>> async def demo(url: str) -> str:
...     async with AsyncScale.open(url) as scale:
...         return (await scale.read()).unit
>>> with Simulator.start(protocol="sbi") as sim:
...     asyncio.run(demo(sim.url))
'g'
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from hengqi.instruments.probe import open_scale
from hengqi.instruments.reading import Identity, Reading
from hengqi.instruments.scale import DEFAULT_STABILITY_TIMEOUT, Scale


class AsyncScale:
    """Awaitable methods mirroring :class:`Scale`; the blocking driver runs in a worker thread."""

    def __init__(self, scale: Scale) -> None:
        self.scale = scale
        self._lock = asyncio.Lock()

    @classmethod
    def open(cls, url: str, *, stability_timeout: float = DEFAULT_STABILITY_TIMEOUT) -> AsyncScale:
        """An AsyncScale whose connection (and protocol probe) is made on first use, in a worker thread."""
        return cls(_Lazy(url, stability_timeout))

    async def identify(self) -> Identity:
        """See :meth:`Scale.identify`."""
        async with self._lock:
            return await asyncio.to_thread(self.scale.identify)

    async def read(self, stable: bool = True) -> Reading:
        """See :meth:`Scale.read`."""
        async with self._lock:
            return await asyncio.to_thread(self.scale.read, stable)

    async def zero(self) -> None:
        """See :meth:`Scale.zero`."""
        async with self._lock:
            await asyncio.to_thread(self.scale.zero)

    async def tare(self) -> None:
        """See :meth:`Scale.tare`."""
        async with self._lock:
            await asyncio.to_thread(self.scale.tare)

    async def clear_tare(self) -> None:
        """See :meth:`Scale.clear_tare`."""
        async with self._lock:
            await asyncio.to_thread(self.scale.clear_tare)

    async def close(self) -> None:
        """Close the line."""
        async with self._lock:
            await asyncio.to_thread(self.scale.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()


class _Lazy(Scale):
    """A Scale that opens (and probes) on first use, so that :meth:`AsyncScale.open` does no I/O."""

    protocol = "lazy"
    protocol_title = "any"

    def __init__(self, url: str, stability_timeout: float) -> None:
        self._url = url
        self._stability = stability_timeout
        self._inner: Scale | None = None

    @property
    def url(self) -> str:
        return self._url

    def _scale(self) -> Scale:
        if self._inner is None:
            self._inner = open_scale(self._url, stability_timeout=self._stability)
        return self._inner

    def identify(self) -> Identity:
        return self._scale().identify()

    def read(self, stable: bool = True) -> Reading:
        return self._scale().read(stable)

    def zero(self) -> None:
        self._scale().zero()

    def tare(self) -> None:
        self._scale().tare()

    def clear_tare(self) -> None:
        self._scale().clear_tare()

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()
            self._inner = None

    def reconnect(self) -> None:
        self._scale().reconnect()
