"""Serving a simulated instrument over loopback TCP and a pseudo-terminal, with faults and a control channel.

The simulator listens on ``127.0.0.1`` only (a bind address other than a loopback one is refused).  Each
connection (and the pty) is served by its own thread; replies pass through :class:`Faults` (garbage bytes,
delays, silence, cut-off lines; disconnects close every connection) before they are sent.

The control channel is a line-based TCP service on a second loopback port (see ``docs/simulator.md``)::

    PLACE 100 g [POSITION]   REMOVE   READ   ZERO   TARE   CLEARTARE   TEMP 23.5   ADVANCE 2.5
    FAULT DISCONNECT | GARBAGE 8 | DELAY 0.5 | SILENCE ON|OFF | PARTIAL | SPAN 1.0005 | CLEAR
    INFO   HELP

Each command is answered by one line starting ``OK`` or ``ERR``.

>>> with Simulator.start(protocol="mt-sics", control=True) as sim:
...     client = ControlClient(sim.control_url)
...     client.send("PLACE 50 g"), client.send("ADVANCE 1")[:3]
('OK placed 0.050 kg at center', 'ERR')
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import select
import socket
import threading
import time
import tty
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import numpy as np

from hengqi.errors import HengqiError, InputError
from hengqi.instruments.simulator.dialects import DeviceInfo, Dialect, Session, make_dialect
from hengqi.instruments.simulator.model import (
    POSITIONS,
    Clock,
    Imperfections,
    ManualClock,
    WeighingModel,
)
from hengqi.instruments.transport import PROTOCOLS
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.quantities import parse_mass

LOOPBACK = "127.0.0.1"


def check_loopback(host: str) -> str:
    """Refuse to listen anywhere but on a loopback address (a simulator is not a network service)."""
    try:
        ip = ipaddress.ip_address(socket.gethostbyname(host))
    except (OSError, ValueError) as err:
        raise InputError("host", f"cannot resolve {host!r}") from err
    if not ip.is_loopback:
        raise InputError("host", f"the simulator listens on loopback only (127.0.0.1), not {host!r}")
    return str(ip)


def _listen(host: str, port: int, field: str) -> socket.socket:
    try:
        return socket.create_server((host, port))
    except OSError as err:
        raise InputError(field, f"cannot listen on {host}:{port}: {err.strerror or err}") from err


@dataclass(slots=True)
class Faults:
    """Faults injected into replies; set them directly or through the control channel."""

    garbage: int = 0
    delay_s: float = 0.0
    silent: bool = False
    partial: int = 0

    def clear(self) -> None:
        """No faults."""
        self.garbage, self.delay_s, self.silent, self.partial = 0, 0.0, False, 0


class _Channel:
    """A connection or the pty master: read, write, close."""

    def __init__(self, fd_owner: socket.socket | int) -> None:
        self.owner = fd_owner

    def fileno(self) -> int:
        return self.owner if isinstance(self.owner, int) else self.owner.fileno()

    def recv(self) -> bytes | None:
        """Bytes received; ``b""`` when the peer has gone, None when nothing was there after all."""
        if isinstance(self.owner, int):
            try:
                return os.read(self.owner, 4096)
            except BlockingIOError:
                return None
        return self.owner.recv(4096)

    def send(self, data: bytes) -> None:
        if isinstance(self.owner, int):  # a serial line: with nobody reading, bytes are lost (never block)
            with contextlib.suppress(BlockingIOError):
                os.write(self.owner, data)
        else:
            self.owner.sendall(data)

    def close(self) -> None:
        if isinstance(self.owner, socket.socket):
            with contextlib.suppress(OSError):
                self.owner.shutdown(socket.SHUT_RDWR)
            self.owner.close()


class Simulator:
    """One simulated instrument, its servers and threads.  Use :meth:`start` (or the constructor + :meth:`run`)."""

    def __init__(
        self,
        model: WeighingModel,
        protocol: str,
        *,
        info: DeviceInfo | None = None,
        host: str = LOOPBACK,
        port: int = 0,
        pty: bool = False,
        control: bool = False,
        control_port: int = 0,
        sbi_width: int = 22,
        checksum: bool = False,
        name: str = "sim",
    ) -> None:
        if protocol not in PROTOCOLS:
            raise InputError("protocol", f"unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
        self.model = model
        self.protocol = protocol
        self.name = name
        self.info = info or DeviceInfo(serial=f"SIM{model.seed:07d}")
        self.dialect: Dialect = make_dialect(protocol, model, self.info, sbi_width=sbi_width, checksum=checksum)
        self.checksum = checksum
        self.faults = Faults()
        self._host = check_loopback(host)
        self._port, self._want_pty, self._want_control, self._control_port = port, pty, control, control_port
        self._stop = threading.Event()
        self._threads: set[threading.Thread] = set()
        self._channels: set[_Channel] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._control: socket.socket | None = None
        self._pty: tuple[int, int] | None = None
        self._rng = np.random.default_rng(model.seed + 1)

    # -- construction helpers -----------------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        protocol: str = "mt-sics",
        *,
        spec: InstrumentSpecification | None = None,
        unit: str = "g",
        imperfections: Imperfections | None = None,
        clock: Clock | None = None,
        seed: int = 0,
        **options: Any,
    ) -> Simulator:
        """Build a model (default: class I, Max 220 g, e = 1 mg, d = 0.1 mg, settling 0.2 s) and start serving."""
        spec = spec or InstrumentSpecification.create(accuracy_class="I", max="220 g", e="1 mg", d="0.1 mg")
        imperfections = imperfections or Imperfections(settling_s=0.2, stability_timeout_s=2.0)
        model = WeighingModel(spec, unit=unit, imperfections=imperfections, clock=clock, seed=seed)
        simulator = cls(model, protocol, **options)
        simulator.run()
        return simulator

    # -- addresses ---------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The TCP port served."""
        if self._listener is None:
            raise HengqiError("the simulator is not running")
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        """The instrument URL over TCP, protocol included."""
        extra = "&checksum=1" if self.checksum else ""
        return f"tcp://{self._host}:{self.port}?protocol={self.protocol}{extra}"

    @property
    def pty_path(self) -> str | None:
        """The pseudo-terminal's device path (``/dev/pts/N``), if one is served."""
        return None if self._pty is None else os.ttyname(self._pty[1])

    @property
    def pty_url(self) -> str | None:
        """The instrument URL over the pseudo-terminal."""
        path = self.pty_path
        extra = "&checksum=1" if self.checksum else ""
        return None if path is None else f"serial://{path}?protocol={self.protocol}{extra}"

    @property
    def control_url(self) -> str | None:
        """The control channel's address (``tcp://127.0.0.1:PORT``)."""
        if self._control is None:
            return None
        return f"tcp://{self._host}:{self._control.getsockname()[1]}"

    # -- operator shortcuts ------------------------------------------------------------------------------------
    def place(self, load: Decimal | str, position: str | tuple[float, float] = "center") -> None:
        """Place a load (see :meth:`WeighingModel.place`)."""
        self.model.place(load, position)

    def remove(self) -> None:
        """Remove the load."""
        self.model.remove()

    def disconnect(self) -> None:
        """Fault: close every open connection now."""
        with self._lock:
            channels = [c for c in self._channels if not isinstance(c.owner, int)]
        for channel in channels:
            channel.close()

    # -- life cycle --------------------------------------------------------------------------------------------
    def run(self) -> None:
        """Open the listeners and start the threads (everything is released again if one fails)."""
        try:
            self._run()
        except BaseException:
            self.stop()
            raise

    def _run(self) -> None:
        self._listener = _listen(self._host, self._port, "port")
        self._spawn(self._accept, self._listener, self._serve)
        if self._want_control:
            self._control = _listen(self._host, self._control_port, "control_port")
            self._spawn(self._accept, self._control, self._serve_control)
        if self._want_pty:
            master, slave = os.openpty()
            tty.setraw(slave)
            tty.setraw(master)
            os.set_blocking(master, False)
            self._pty = (master, slave)
            self._spawn(self._serve, _Channel(master))

    def _spawn(self, target: Any, *args: Any) -> None:
        """Start a thread that forgets itself when done (a demo fleet serves connections for weeks)."""

        def run() -> None:
            try:
                target(*args)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=run, daemon=True, name=f"hengqi-sim-{self.name}")
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def stop(self) -> None:
        """Stop serving and release sockets, the pty and threads."""
        self._stop.set()
        for sock in (self._listener, self._control):
            if sock is not None:
                sock.close()
        with self._lock:
            channels = list(self._channels)
        for channel in channels:
            channel.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=2.0)
        if self._pty is not None:
            for fd in self._pty:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._pty = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # -- serving -----------------------------------------------------------------------------------------------
    def _accept(self, listener: socket.socket, handler: Any) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([listener], [], [], 0.1)
                if not ready:
                    continue
                conn, _ = listener.accept()
            except (OSError, ValueError):
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._spawn(handler, _Channel(conn))

    def _send(self, channel: _Channel, data: bytes) -> None:
        faults = self.faults
        if not data or faults.silent:
            return
        if faults.delay_s:
            time.sleep(faults.delay_s)
        if faults.garbage:
            junk = bytes(self._rng.integers(0x21, 0x7F, faults.garbage, dtype=np.uint8))
            data, faults.garbage = junk + data, 0
        if faults.partial:
            data, faults.partial = data[: max(1, len(data) - 2)], faults.partial - 1
        channel.send(data)

    def _serve(self, channel: _Channel) -> None:
        with self._lock:
            self._channels.add(channel)
        session, buffer, dialect = Session(), b"", self.dialect
        try:
            while not self._stop.is_set():
                streaming = session.streaming or dialect.continuous
                wait = max(0.0, min(0.1, session.next_stream - time.monotonic())) if streaming else 0.1
                ready, _, _ = select.select([channel], [], [], wait)
                data = channel.recv() if ready else None
                if data == b"":
                    return
                if data:
                    buffer += data
                    commands, buffer = dialect.split(buffer)
                    for command in commands:
                        self._send(channel, dialect.handle(command, session))
                streaming = session.streaming or dialect.continuous
                if streaming and time.monotonic() >= session.next_stream:
                    self._send(channel, dialect.stream(session))
                    session.next_stream = time.monotonic() + dialect.stream_interval
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._channels.discard(channel)
            channel.close()

    # -- control channel ---------------------------------------------------------------------------------------
    def control(self, line: str) -> str:
        """Execute one control command; returns the ``OK ...`` / ``ERR ...`` answer line."""
        words = line.split()
        if not words:
            return "ERR empty command (try HELP)"
        verb, args = words[0].upper(), words[1:]
        try:
            return "OK" + self._control_command(verb, args)
        except (HengqiError, ValueError, IndexError) as err:
            return f"ERR {err}"

    def _control_command(self, verb: str, args: list[str]) -> str:
        model = self.model
        if verb == "PLACE":
            position = "center"
            if args and args[-1].lower() in POSITIONS:
                position = args.pop().lower()
            load = parse_mass(" ".join(args), path="load")
            model.place(load, position)
            return f" placed {load} kg at {position}"
        if verb == "REMOVE":
            model.remove()
            return " removed"
        if verb == "READ":
            ind = model.indication()
            flags = ["stable" if ind.stable else "dynamic", "net" if ind.net else "gross"]
            flags += ["overload"] * ind.overload + ["underload"] * ind.underload
            return f" {ind.text} {ind.unit} {' '.join(flags)}"
        if verb in {"ZERO", "TARE"}:
            outcome = model.zero() if verb == "ZERO" else model.tare()
            if outcome != "ok":
                raise ValueError(f"{verb.lower()} refused: {outcome}")
            return ""
        if verb == "CLEARTARE":
            model.clear_tare()
            return ""
        if verb == "TEMP":
            model.set_temperature(float(args[0]))
            return f" {float(args[0])} degC"
        if verb == "ADVANCE":
            if not isinstance(model.clock, ManualClock):
                raise ValueError("ADVANCE needs a manual clock (the simulator runs on real time)")
            model.clock.advance(float(args[0]))
            return ""
        if verb == "FAULT":
            return self._fault(args)
        if verb == "INFO":
            return f" {self.name} protocol={self.protocol} url={self.url} pty={self.pty_path or '-'}"
        if verb == "HELP":
            return (
                " PLACE <mass> [position] | REMOVE | READ | ZERO | TARE | CLEARTARE | TEMP <degC> | "
                "ADVANCE <s> | FAULT DISCONNECT|GARBAGE <n>|DELAY <s>|SILENCE ON|OFF|PARTIAL|SPAN <f>|CLEAR | INFO"
            )
        raise ValueError(f"unknown command {verb!r} (try HELP)")

    def _fault(self, args: list[str]) -> str:
        kind = args[0].upper()
        if kind == "DISCONNECT":
            self.disconnect()
        elif kind == "GARBAGE":
            self.faults.garbage = int(args[1]) if len(args) > 1 else 8
        elif kind == "DELAY":
            self.faults.delay_s = float(args[1])
        elif kind == "SILENCE":
            self.faults.silent = args[1].upper() == "ON" if len(args) > 1 else True
        elif kind == "PARTIAL":
            self.faults.partial = 1
        elif kind == "SPAN":
            self.model.tamper_span(float(args[1]))
        elif kind == "CLEAR":
            self.faults.clear()
            self.model.tamper_span(1.0)
        else:
            raise ValueError(f"unknown fault {kind!r}")
        return f" fault {kind.lower()}"

    def _serve_control(self, channel: _Channel) -> None:
        buffer = b""
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([channel], [], [], 0.1)
                if not ready:
                    continue
                data = channel.recv()
                if not data:
                    return
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    answer = self.control(line.decode("utf-8", "replace").strip())
                    channel.send(answer.encode("utf-8") + b"\n")
                if len(buffer) > 4096:
                    buffer = b""
                    channel.send(b"ERR line too long\n")
        except (OSError, ValueError):
            return
        finally:
            channel.close()


class ControlClient:
    """A small client for the control channel: ``ControlClient(sim.control_url).send("PLACE 100 g")``."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        if not url.startswith("tcp://"):
            raise InputError("url", f"a control channel address looks like tcp://127.0.0.1:PORT, not {url!r}")
        host, _, port = url.removeprefix("tcp://").partition(":")
        self.address = (host, int(port))
        self.timeout = timeout

    def send(self, line: str) -> str:
        """Send one command line and return the answer line."""
        with socket.create_connection(self.address, timeout=self.timeout) as sock:
            sock.sendall(line.encode("utf-8") + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        return data.decode("utf-8").strip()
