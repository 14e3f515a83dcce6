"""Byte transports behind one interface, addressed by URL.

Addresses (the protocol may be named with ``?protocol=``, otherwise :mod:`hengqi.instruments.probe` finds it):

* ``serial:///dev/ttyUSB0?baud=9600&bytesize=7&parity=E&stopbits=1`` (or a bare ``/dev/ttyUSB0`` / ``COM3``);
* ``tcp://127.0.0.1:4001`` (a raw TCP socket, e.g. a serial-to-Ethernet converter or the simulator);
* pyserial's URL handlers ``socket://``, ``loop://``, ``rfc2217://`` (and ``spy://``, ``alt://``, ``hwgrep://``);
* ``opc.tcp://host:4840?protocol=opcua-scales`` (an OPC UA for Scales server, OPC 40200; no byte transport:
  :mod:`hengqi.instruments.opcua` talks to it, see ``docs/opcua.md``).

Every read has a deadline.  Silence raises :class:`TransportTimeout` (with the partial bytes received), a closed
peer :class:`TransportClosed`, a line longer than ``max_length`` (stray bytes without a terminator)
:class:`ScaleReplyError`: never a hang.

>>> parse_address("serial:///dev/ttyUSB0?baud=2400&bytesize=7&parity=E&protocol=and").serial_settings()
{'baudrate': 2400, 'bytesize': 7, 'parity': 'E', 'stopbits': 1}
>>> parse_address("tcp://127.0.0.1:4001").port
4001
>>> with open_transport("loop://?timeout=0.5") as line:
...     line.write(b"S S     100.00 g\\r\\n")
...     line.read_line()
b'S S     100.00 g'
"""

from __future__ import annotations

import math
import select
import socket
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import parse_qsl, urlsplit

import serial

from hengqi.instruments.errors import (
    AddressError,
    LineSettingsError,
    ScaleReplyError,
    TransportClosed,
    TransportError,
    TransportTimeout,
)

try:  # POSIX only: a port that refuses a framing raises termios.error, which is not an OSError
    from termios import error as termios_error
except ImportError:  # pragma: no cover - Windows

    class termios_error(Exception):  # type: ignore[no-redef]  # noqa: N801
        """Stand-in where termios does not exist."""


#: Everything pyserial lets escape when a port is opened, configured, read or written.
_PORT_ERRORS: Final = (serial.SerialException, OSError, ValueError, termios_error)

#: Protocols spoken over a byte transport (the simulator speaks these).
PROTOCOLS: Final = ("mt-sics", "sbi", "and", "toledo-continuous")
#: OPC UA for Scales (OPC 40200), reached with the ``opc.tcp`` scheme only.
OPCUA_PROTOCOL: Final = "opcua-scales"
#: Every protocol an address may name.
ADDRESS_PROTOCOLS: Final = (*PROTOCOLS, OPCUA_PROTOCOL)
PYSERIAL_SCHEMES: Final = ("socket", "loop", "rfc2217", "spy", "alt", "hwgrep")
OPCUA_SCHEME: Final = "opc.tcp"
SCHEMES: Final = ("serial", "tcp", *PYSERIAL_SCHEMES, OPCUA_SCHEME)
#: Options of an ``opc.tcp`` address besides ``protocol`` and ``timeout``: which scale object (its browse name) to
#: use when the server exposes several.
_OPCUA_KEYS: Final = frozenset({"scale"})
#: The IANA-registered OPC UA TCP port (OPC 10000-6, 7.2).
OPCUA_DEFAULT_PORT: Final = 4840
DEFAULT_TIMEOUT: Final = 2.0
_OWN_KEYS: Final = frozenset(
    {"protocol", "baud", "baudrate", "bytesize", "parity", "stopbits", "timeout", "checksum", "ack"}
)
#: How an A&D balance acknowledges Z/T (its ``erCd`` function setting, FX-i/FZ-i manual 15-2): ``none`` (no AK),
#: ``once`` (AK on receipt), ``twice`` (AK on receipt and again on completion, as re-zero does); unset = adapt.
ACK_MODES: Final = ("none", "once", "twice")
_PARITIES: Final = {"N": "N", "E": "E", "O": "O", "M": "M", "S": "S", "NONE": "N", "EVEN": "E", "ODD": "O"}


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed instrument address; ``target`` is what the transport opens (host, device path, pyserial URL)."""

    url: str
    scheme: str
    target: str
    host: str = ""
    port: int = 0
    protocol: str | None = None
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1
    timeout: float = DEFAULT_TIMEOUT
    checksum: bool | None = None
    ack: str | None = None
    passthrough: tuple[tuple[str, str], ...] = field(default=())

    def serial_settings(self) -> dict[str, Any]:
        """Line settings as pyserial keyword arguments."""
        return {"baudrate": self.baudrate, "bytesize": self.bytesize, "parity": self.parity, "stopbits": self.stopbits}

    def with_settings(self, **changes: Any) -> Address:
        """A copy with other line settings or protocol (used by the prober)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update(changes)
        return Address(**values)


def _number(url: str, key: str, text: str, kind: type[int] | type[float], allowed: tuple[int, ...] = ()) -> Any:
    try:
        if not text.isascii():  # int() and float() read other scripts' digits ("٩٦٠٠") too
            raise ValueError(text)
        value = kind(text)
    except ValueError as err:
        raise AddressError(url, f"option {key}={text!r} is not a number") from err
    if not math.isfinite(value) or value <= 0 or (allowed and value not in allowed):
        choice = f" (one of {', '.join(map(str, allowed))})" if allowed else " (must be a finite positive number)"
        raise AddressError(url, f"option {key}={text!r} is not allowed{choice}")
    return value


def parse_address(url: str) -> Address:
    """Parse an instrument URL; :class:`AddressError` (an InputError, exit 2) names the URL and the problem.

    >>> parse_address("ftp://x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hengqi.instruments.errors.AddressError: ftp://x: unknown scheme 'ftp' (known: serial, tcp, socket, loop, ...)
    """
    text = url.strip()
    if not text:
        raise AddressError("url", "an instrument address is empty")
    if text.startswith("/") or text.upper().startswith("COM"):
        text = f"serial://{text}"
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise AddressError(url, f"unknown scheme {parts.scheme!r} (known: {', '.join(SCHEMES)})")
    options: dict[str, Any] = {}
    passthrough: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        lower = key.lower()
        if scheme == OPCUA_SCHEME and lower in _OPCUA_KEYS:
            passthrough.append((lower, value))
        elif scheme == OPCUA_SCHEME and lower not in {"protocol", "timeout"}:
            known = ", ".join(sorted({"protocol", "timeout", *_OPCUA_KEYS}))
            raise AddressError(url, f"unknown option {key!r} for an OPC UA address (known: {known})")
        elif lower not in _OWN_KEYS:
            if scheme in ("serial", "tcp"):
                raise AddressError(url, f"unknown option {key!r} (known: {', '.join(sorted(_OWN_KEYS))})")
            passthrough.append((key, value))
        elif lower == "protocol":
            if value not in ADDRESS_PROTOCOLS:
                raise AddressError(url, f"unknown protocol {value!r} (known: {', '.join(ADDRESS_PROTOCOLS)})")
            if (value == OPCUA_PROTOCOL) != (scheme == OPCUA_SCHEME):
                raise AddressError(url, f"protocol {OPCUA_PROTOCOL!r} goes with an opc.tcp:// address only")
            options["protocol"] = value
        elif lower in {"baud", "baudrate"}:
            options["baudrate"] = _number(url, key, value, int)
        elif lower == "bytesize":
            options["bytesize"] = _number(url, key, value, int, (5, 6, 7, 8))
        elif lower == "stopbits":
            options["stopbits"] = _number(url, key, value, int, (1, 2))
        elif lower == "timeout":
            options["timeout"] = _number(url, key, value, float)
        elif lower == "parity":
            if value.upper() not in _PARITIES:
                raise AddressError(url, f"option parity={value!r} is not one of N, E, O, M, S")
            options["parity"] = _PARITIES[value.upper()]
        elif lower == "ack":
            if value.lower() not in ACK_MODES:
                raise AddressError(url, f"option ack={value!r} is not one of {', '.join(ACK_MODES)}")
            options["ack"] = value.lower()
        else:
            if value.lower() not in {"0", "1", "true", "false", "yes", "no"}:
                raise AddressError(url, f"option checksum={value!r} is not a yes/no value")
            options["checksum"] = value.lower() in {"1", "true", "yes"}
    if scheme == "tcp":
        try:
            port = parts.port
        except ValueError as err:
            raise AddressError(url, "the TCP port is not a number from 0 to 65535") from err
        if not parts.hostname or not port:
            raise AddressError(url, "a TCP address needs a host and a port, e.g. tcp://127.0.0.1:4001")
        return Address(url, scheme, f"{parts.hostname}:{port}", parts.hostname, port, **options)
    if scheme == OPCUA_SCHEME:
        try:
            port = parts.port or OPCUA_DEFAULT_PORT
        except ValueError as err:
            raise AddressError(url, "the OPC UA port is not a number from 0 to 65535") from err
        if not parts.hostname:
            raise AddressError(url, "an OPC UA address needs a host, e.g. opc.tcp://127.0.0.1:4840")
        if parts.username or parts.password:
            raise AddressError(url, "put no user name or password in an OPC UA address (see docs/opcua.md)")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        options.setdefault("protocol", OPCUA_PROTOCOL)
        target = f"{OPCUA_SCHEME}://{host}:{port}{parts.path}"
        return Address(url, scheme, target, parts.hostname, port, passthrough=tuple(passthrough), **options)
    if scheme == "serial":
        device = parts.netloc + parts.path
        if not device:
            raise AddressError(url, "a serial address needs a device, e.g. serial:///dev/ttyUSB0")
        return Address(url, scheme, device, **options)
    rest = "&".join(f"{k}={v}" if v else k for k, v in passthrough)
    target = f"{scheme}://{parts.netloc}{parts.path}" + (f"?{rest}" if rest else "")
    return Address(url, scheme, target, parts.hostname or "", 0, passthrough=tuple(passthrough), **options)


class Transport(ABC):
    """A byte stream to one instrument with deadline-bounded reads and an input buffer."""

    def __init__(self, address: Address) -> None:
        self.address = address
        self._buffer = bytearray()

    @property
    def url(self) -> str:
        """The address as given."""
        return self.address.url

    @property
    def timeout(self) -> float:
        """Default read timeout in seconds."""
        return self.address.timeout

    @property
    @abstractmethod
    def is_open(self) -> bool:
        """True while the line is open."""

    @abstractmethod
    def open(self) -> None:
        """Open the line; :class:`TransportError` naming the URL if that fails."""

    @abstractmethod
    def close(self) -> None:
        """Close the line (idempotent)."""

    @abstractmethod
    def _send(self, data: bytes) -> None: ...

    @abstractmethod
    def _recv(self, timeout: float) -> bytes:
        """Bytes that arrive within ``timeout`` (``b""`` if none); TransportClosed when the peer is gone."""

    def reconnect(self) -> None:
        """Close and open again, dropping buffered input."""
        self.close()
        self._buffer.clear()
        self.open()

    def write(self, data: bytes) -> None:
        """Send bytes, opening the line first if needed."""
        if not self.is_open:
            self.open()
        self._send(data)

    def discard_input(self, quiet: float = 0.0) -> bytes:
        """Drop buffered input and anything arriving within ``quiet`` seconds; return what was dropped."""
        dropped = bytes(self._buffer)
        self._buffer.clear()
        try:
            while self.is_open and (chunk := self._recv(quiet)):
                dropped += chunk
        except TransportClosed:  # best effort: the next command reconnects
            pass
        return dropped

    def read_until(self, terminator: bytes, timeout: float | None = None, max_length: int = 512) -> bytes:
        """Bytes up to (without) ``terminator``; raises on timeout, on close, or past ``max_length`` bytes."""
        if not self.is_open:
            self.open()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            index = self._buffer.find(terminator)
            if 0 <= index <= max_length:
                line = bytes(self._buffer[:index])
                del self._buffer[: index + len(terminator)]
                return line
            if len(self._buffer) > max_length:
                junk = bytes(self._buffer)
                self._buffer.clear()
                raise ScaleReplyError(self.url, f"no line end within {max_length} bytes", raw=junk.decode("latin-1"))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                partial = bytes(self._buffer)
                self._buffer.clear()
                what = f"partial line {partial!r}" if partial else "no reply"
                raise TransportTimeout(self.url, f"{what} within {self._seconds(timeout)} s", partial=partial)
            self._buffer += self._recv(remaining)

    def read_line(self, timeout: float | None = None, max_length: int = 512) -> bytes:
        """One line ended by LF (a CR before it is removed)."""
        line = self.read_until(b"\n", timeout, max_length)
        return line[:-1] if line.endswith(b"\r") else line

    def read_exactly(self, size: int, timeout: float | None = None) -> bytes:
        """Exactly ``size`` bytes, or :class:`TransportTimeout`."""
        if not self.is_open:
            self.open()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while len(self._buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise TransportTimeout(
                    self.url, f"{len(partial)} of {size} bytes within {self._seconds(timeout)} s", partial=partial
                )
            self._buffer += self._recv(remaining)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def read_for(self, seconds: float) -> bytes:
        """Everything that arrives within ``seconds`` (for probing)."""
        if not self.is_open:
            self.open()
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self._buffer += self._recv(remaining)
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    def _seconds(self, timeout: float | None) -> str:
        return f"{self.timeout if timeout is None else timeout:g}"

    def __enter__(self) -> Self:
        if not self.is_open:
            self.open()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class TcpTransport(Transport):
    """A raw TCP socket (Nagle off)."""

    def __init__(self, address: Address) -> None:
        super().__init__(address)
        self._socket: socket.socket | None = None

    @property
    def is_open(self) -> bool:
        return self._socket is not None

    def open(self) -> None:
        if self._socket is not None:
            return
        try:
            sock = socket.create_connection((self.address.host, self.address.port), timeout=self.timeout)
        except OSError as err:
            raise TransportError(self.url, f"cannot connect: {err.strerror or err}") from err
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket = sock

    def close(self) -> None:
        if self._socket is not None:
            try:
                self._socket.close()
            finally:
                self._socket = None

    def _send(self, data: bytes) -> None:
        assert self._socket is not None
        try:
            self._socket.settimeout(self.timeout)
            self._socket.sendall(data)
        except OSError as err:
            self.close()
            raise TransportClosed(self.url, f"cannot send: {err.strerror or err}") from err

    def _recv(self, timeout: float) -> bytes:
        if self._socket is None:
            raise TransportClosed(self.url, "the connection is closed")
        try:
            self._socket.settimeout(max(timeout, 0.0))
            data = self._socket.recv(4096)
        except TimeoutError:
            return b""
        except BlockingIOError:
            return b""
        except OSError as err:
            self.close()
            raise TransportClosed(self.url, f"connection lost: {err.strerror or err}") from err
        if not data:
            self.close()
            raise TransportClosed(self.url, "the instrument closed the connection")
        return data


class SerialTransport(Transport):
    """A serial port or any pyserial URL (``socket://``, ``loop://``, ``rfc2217://``)."""

    def __init__(self, address: Address) -> None:
        super().__init__(address)
        self._port: Any = None
        self._current_timeout: float | None = None
        self._local = False

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        if self._port is not None:
            return
        # A local port is waited on with select() and read without blocking: changing a termios timeout per read
        # costs a tcsetattr call, and a pseudo-terminal refuses that call for 7-bit or parity framings.
        local = "://" not in self.address.target
        try:
            port = serial.serial_for_url(
                self.address.target,
                do_not_open=True,
                timeout=0 if local else self.timeout,
                **self.address.serial_settings(),
            )
            port.open()
        except termios_error as err:
            settings = self.address
            raise LineSettingsError(
                self.url,
                f"the port refuses the line settings {settings.baudrate} baud "
                f"{settings.bytesize}{settings.parity}{settings.stopbits} ({_reason(err)})",
            ) from err
        except _PORT_ERRORS as err:
            raise TransportError(self.url, f"cannot open: {_reason(err)}") from err
        self._port = port
        self._local = local and hasattr(port, "fileno")
        self._current_timeout = 0 if local else self.timeout

    def close(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            except _PORT_ERRORS:
                pass
            finally:
                self._port = None

    def _send(self, data: bytes) -> None:
        try:
            self._port.write(data)
        except _PORT_ERRORS as err:
            self.close()
            raise TransportClosed(self.url, f"cannot send: {err}") from err

    def _recv(self, timeout: float) -> bytes:
        if self._port is None:
            raise TransportClosed(self.url, "the port is closed")
        timeout = max(round(timeout, 3), 0.0)
        try:
            if self._local:
                ready, _, _ = select.select([self._port.fileno()], [], [], timeout)
                if not ready:
                    return b""
                chunk = bytes(self._port.read(max(1, self._port.in_waiting)))
                if not chunk:
                    raise serial.SerialException("the port reports data but returned none (disconnected?)")
                return chunk
            if timeout != self._current_timeout:
                self._port.timeout = timeout
                self._current_timeout = timeout
            data = bytes(self._port.read(1))
            if data:
                waiting = self._port.in_waiting
                if waiting:
                    data += bytes(self._port.read(waiting))
        except _PORT_ERRORS as err:
            self.close()
            raise TransportClosed(self.url, f"connection lost: {err}") from err
        return data


def _reason(err: BaseException) -> str:
    """A one-line reason from an OS or termios error (``termios.error`` carries ``(errno, text)``)."""
    if isinstance(err, termios_error) and len(err.args) == 2:
        return str(err.args[1])
    return str(err) or type(err).__name__


def open_transport(url: str | Address, *, open_now: bool = True) -> Transport:
    """A transport for ``url`` (opened unless ``open_now`` is False)."""
    address = url if isinstance(url, Address) else parse_address(url)
    if address.scheme == OPCUA_SCHEME:
        raise AddressError(address.url, "an OPC UA address has no byte transport; open it with open_scale")
    transport: Transport = TcpTransport(address) if address.scheme == "tcp" else SerialTransport(address)
    if open_now:
        transport.open()
    return transport
