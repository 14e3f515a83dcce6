"""The edge agent's loop: read the scale, turn what happens into telemetry events, queue them, publish.

What it reports, from any of the four protocols of :mod:`hengqi.instruments`:

* ``identity`` once at start (the software the instrument reports as ``software_id``);
* ``transaction`` for each new stable, non-zero indication after the scale has returned to zero (one weighing:
  gross = net = the indication, tare 0, as a plain scale reports it);
* ``state`` ``power_off`` / ``power_on`` when the scale stops and starts answering;
* ``heartbeat`` every ``heartbeat_s`` with the queue depth and the agent's uptime.

Times are the agent's clock (UTC, ms).  Where the scale is away, the agent keeps queueing heartbeats; where the
broker is away, events wait in the queue (bounded, oldest dropped first).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from hengqi.edge.publisher import Publisher
from hengqi.edge.queue import ForwardQueue
from hengqi.instruments.errors import ScaleError
from hengqi.instruments.probe import open_scale
from hengqi.instruments.scale import Scale
from hengqi.instruments.transport import parse_address
from hengqi.supervision.telemetry import Body, Heartbeat, Identity, StateEvent, Transaction


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass
class AgentCounts:
    readings: int = 0
    events: int = 0
    scale_errors: int = 0


class Agent:
    """One scale, one queue, one publisher."""

    def __init__(
        self,
        scale_url: str,
        queue: ForwardQueue,
        publisher: Publisher,
        *,
        poll_s: float = 0.2,
        heartbeat_s: float = 10.0,
    ) -> None:
        self.scale_url = scale_url
        self.queue = queue
        self.publisher = publisher
        self.poll_s = poll_s
        self.heartbeat_s = heartbeat_s
        self.counts = AgentCounts()
        self._scale: Scale | None = None
        self._armed = True  # the scale has been at zero since the last transaction
        self._last_heartbeat = 0.0
        self._started = time.monotonic()
        self._scale_up: bool | None = None
        self.identity: dict[str, str] = {}

    def emit(self, body: Body) -> None:
        """Queue one event now."""
        self.queue.append(_now(), body)
        self.counts.events += 1

    def _connect_scale(self) -> Scale | None:
        if self._scale is not None:
            return self._scale
        try:
            scale = open_scale(self.scale_url, stability_timeout=2.0)
            ident = scale.identify()
        except ScaleError:
            return None
        self._scale = scale
        software = ident.software or ""
        self.identity = {"software_id": software, "serial": ident.serial or "", "protocol": ident.protocol}
        self.emit(Identity(software_id=software[:200], production_code=(ident.serial or "")[:200]))
        return scale

    def _drop_scale(self) -> None:
        if self._scale is not None:
            with contextlib.suppress(ScaleError, OSError):
                self._scale.transport.close()
        self._scale = None

    def step(self) -> None:
        """One poll: read, maybe emit, maybe heartbeat, publish what the window allows."""
        scale = self._connect_scale()
        up = scale is not None
        if scale is not None:
            try:
                reading = scale.read(stable=False)
                self.counts.readings += 1
            except ScaleError:
                self.counts.scale_errors += 1
                self._drop_scale()
                up = False
            else:
                value = reading.value_kg if reading.value_kg is not None else reading.value
                if value == 0:
                    self._armed = True
                elif reading.stable and self._armed and value > 0:
                    self._armed = False
                    self.emit(Transaction(gross_kg=value, tare_kg=Decimal(0), net_kg=value))
        if self._scale_up is not None and up != self._scale_up:
            self.emit(StateEvent(state="power_on" if up else "power_off", detail=self.scale_url[:200]))
        self._scale_up = up
        now = time.monotonic()
        if now - self._last_heartbeat >= self.heartbeat_s:
            self._last_heartbeat = now
            self.emit(Heartbeat(uptime_s=round(now - self._started, 3), queue_depth=self.queue.depth()))
        self.publisher.pump()

    def run(self, *, duration_s: float | None = None) -> AgentCounts:
        """Poll until ``duration_s`` passes (forever when None) or Ctrl-C."""
        end = None if duration_s is None else time.monotonic() + duration_s
        try:
            while end is None or time.monotonic() < end:
                self.step()
                time.sleep(self.poll_s)
        except KeyboardInterrupt:
            pass
        finally:
            self._drop_scale()
        return self.counts


def check_scale_url(url: str) -> str:
    """The URL if the instruments layer can parse it (:class:`~hengqi.instruments.errors.AddressError` if not)."""
    parse_address(url)
    return url
