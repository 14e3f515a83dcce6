"""The one :class:`Scale` interface over every protocol, and :func:`open_scale`.

A driver receives a :class:`~hengqi.instruments.transport.Transport` (injected, so tests hand it a loopback
socket or a pseudo-terminal); it encodes commands and decodes replies with the pure codecs and turns the
instrument's refusals into typed errors.  Calls are serialised by a lock, so one Scale may be shared by threads;
for asyncio code use :class:`hengqi.instruments.aio.AsyncScale`, which runs these blocking calls in a worker thread.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from decimal import Decimal
from types import TracebackType
from typing import ClassVar, Self, TypeVar

from hengqi.instruments.errors import FrameError, ProtocolMismatchError, TransportClosed
from hengqi.instruments.reading import Identity, Reading, decimals_of, unit_size_kg
from hengqi.instruments.transport import Transport

T = TypeVar("T")

#: Seconds a driver waits for a stable reading before :class:`ScaleUnstableError`.
DEFAULT_STABILITY_TIMEOUT = 10.0


class Scale(ABC):
    """A weighing instrument reached through a transport.

    Subclasses implement the protocol; every method raises only :mod:`hengqi.instruments.errors` types.
    """

    protocol: ClassVar[str]
    protocol_title: ClassVar[str]
    make: ClassVar[str | None] = None

    def __init__(self, transport: Transport, *, stability_timeout: float = DEFAULT_STABILITY_TIMEOUT) -> None:
        self.transport = transport
        self.stability_timeout = stability_timeout
        self._lock = threading.RLock()

    @property
    def url(self) -> str:
        """The instrument address."""
        return self.transport.url

    @abstractmethod
    def identify(self) -> Identity:
        """Make, model, serial number, software, capacity and d, as far as the protocol reports them."""

    @abstractmethod
    def read(self, stable: bool = True) -> Reading:
        """One reading; with ``stable`` wait (up to ``stability_timeout``) for a stable one."""

    @abstractmethod
    def zero(self) -> None:
        """Set the indication to zero (ScaleRangeError outside the zero-setting range)."""

    @abstractmethod
    def tare(self) -> None:
        """Tare the load on the receptor."""

    @abstractmethod
    def clear_tare(self) -> None:
        """Clear the tare (ScaleNotSupportedError where the protocol has no such command)."""

    def readings(self, count: int | None = None, *, stable: bool = False, interval: float = 0.0) -> Iterator[Reading]:
        """Successive readings (``count`` of them, or until the caller stops iterating)."""
        done = 0
        while count is None or done < count:
            yield self.read(stable=stable)
            done += 1
            if interval:
                time.sleep(interval)

    def close(self) -> None:
        """Close the line."""
        with self._lock:
            self.transport.close()

    def reconnect(self) -> None:
        """Open the line again (after a disconnect, or to drop stale input)."""
        with self._lock:
            self.transport.reconnect()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    # -- helpers for drivers -------------------------------------------------------------------------------------

    def _locked(self, action: Callable[[], T]) -> T:
        """Run ``action`` under the lock; if the line was closed before a reply, reconnect once and retry."""
        with self._lock:
            try:
                return action()
            except TransportClosed:
                self.transport.reconnect()
                return action()

    def _decode(self, decoder: Callable[[bytes], T], data: bytes, command: str) -> T:
        try:
            return decoder(data)
        except FrameError as err:
            self.transport.discard_input()
            raise self._mismatch(command, data.decode("latin-1")) from err

    def _mismatch(self, command: str, raw: str) -> ProtocolMismatchError:
        return ProtocolMismatchError(
            self.url,
            f"expected a {self.protocol_title} reply to {command!r} (wrong protocol or line settings? "
            "try `hengqi scale probe URL`)",
            raw=raw,
        )


def resolution_kg(text: str, unit: str) -> Decimal | None:
    """The display resolution implied by a printed number (``"100.00"``, ``"g"`` -> 0.00001 kg).

    >>> resolution_kg("100.00", "g")
    Decimal('0.00001')
    """
    size = unit_size_kg(unit)
    if size is None:
        return None
    return Decimal(1).scaleb(-decimals_of(text)) * size
