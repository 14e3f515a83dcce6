"""Connections from the server to instruments, by URL, and a simulator's "hands".

One :class:`~hengqi.instruments.scale.Scale` per URL is opened on first use and kept; an instrument error drops
it, so the next use connects again (a scale unplugged and plugged back in works without restarting anything).
Every call here blocks: callers run them in a worker thread (FastAPI runs ``def`` routes in its thread pool, and
the live-reading route uses :func:`asyncio.to_thread`), never on the event loop.

A simulated instrument (:mod:`hengqi.instruments.simulator`) has no person to put weights on it: its control
channel does (``PLACE 100 g centre``).  :meth:`InstrumentLinks.ensure_placed` puts the load a run says lies on
the receptor, once per change (also after a server restart, when the simulator starts empty).
"""

from __future__ import annotations

import contextlib
import threading
import time
from decimal import Decimal

from hengqi.errors import HengqiError, InputError
from hengqi.instruments.errors import ScaleError, ScaleRangeError
from hengqi.instruments.probe import open_scale
from hengqi.instruments.reading import Reading
from hengqi.instruments.scale import Scale
from hengqi.instruments.simulator import ControlClient
from hengqi.metrology.quantities import format_mass

#: Seconds a stable reading is waited for.
STABILITY_TIMEOUT_S = 12.0


class InstrumentUnavailableError(HengqiError):
    """The instrument could not be reached or did not answer (nothing was recorded)."""

    code = "instrument_unavailable"


class InstrumentSettlingError(InstrumentUnavailableError):
    """The instrument answered with an over- or underload indication while a non-stable reading was asked for (the
    swing after a load change): connected, but showing no value at this moment."""

    code = "instrument_settling"


class InstrumentLinks:
    """Open instrument connections of one app."""

    def __init__(self, *, stability_timeout: float = STABILITY_TIMEOUT_S) -> None:
        self.stability_timeout = stability_timeout
        self._scales: dict[str, Scale] = {}
        self._placed: dict[str, tuple[Decimal, str]] = {}
        self._lock = threading.Lock()

    def _scale(self, url: str) -> Scale:
        with self._lock:
            scale = self._scales.get(url)
        if scale is not None:
            return scale
        try:
            scale = open_scale(url, stability_timeout=self.stability_timeout)
        except (HengqiError, OSError) as err:
            raise InstrumentUnavailableError(f"cannot connect to {url}: {err}") from err
        with self._lock:
            existing = self._scales.setdefault(url, scale)
        if existing is not scale:
            scale.close()
        return existing

    def drop(self, url: str) -> None:
        """Forget (and close) the connection to ``url``."""
        with self._lock:
            scale = self._scales.pop(url, None)
        if scale is not None:
            with contextlib.suppress(HengqiError, OSError):
                scale.close()

    def read(self, url: str, *, stable: bool) -> Reading:
        """One reading (with ``stable``: a stable one, waited for); errors drop the connection.

        While a load settles an instrument may briefly report over- or underload (the swing after a load is
        taken off); a stable read asks again until :attr:`stability_timeout` has passed.
        """
        scale = self._scale(url)
        deadline = time.monotonic() + self.stability_timeout
        while True:
            try:
                return scale.read(stable)
            except ScaleRangeError as err:
                if not stable:
                    raise InstrumentSettlingError(f"{url}: {err}") from err
                if time.monotonic() >= deadline:
                    raise InstrumentUnavailableError(f"{url}: {err}") from err
                time.sleep(0.2)
            except (ScaleError, OSError) as err:
                self.drop(url)
                raise InstrumentUnavailableError(f"{url}: {err}") from err

    def read_stable_kg(self, url: str) -> Decimal:
        """A stable reading in kg."""
        reading = self.read(url, stable=True)
        if reading.value_kg is None:
            raise InputError("reading", f"the instrument indicates in {reading.unit!r}, not in a unit of mass")
        if not reading.stable:
            raise InstrumentUnavailableError("the instrument gave an unstable reading for a stable read")
        return reading.value_kg

    def zero(self, url: str) -> None:
        """Set the instrument to zero once its indication is stable (zero-setting needs a stable indication)."""
        self.read(url, stable=True)
        scale = self._scale(url)
        try:
            scale.zero()
        except (ScaleError, OSError) as err:
            self.drop(url)
            raise InstrumentUnavailableError(f"{url}: {err}") from err

    def ensure_placed(self, control_url: str, load_kg: Decimal, position: str) -> None:
        """Put ``load_kg`` at ``position`` on a simulator unless it is known to lie there already."""
        wanted = (load_kg, position)
        with self._lock:
            if self._placed.get(control_url) == wanted:
                return
        command = "REMOVE" if load_kg == 0 else f"PLACE {format_mass(load_kg)} {position}"
        try:
            answer = ControlClient(control_url, timeout=5.0).send(command)
        except (OSError, InputError) as err:
            raise InstrumentUnavailableError(f"simulator control {control_url}: {err}") from err
        if not answer.startswith("OK"):
            raise InstrumentUnavailableError(f"simulator control {control_url}: {answer}")
        with self._lock:
            self._placed[control_url] = wanted

    def close(self) -> None:
        with self._lock:
            urls = list(self._scales)
        for url in urls:
            self.drop(url)
