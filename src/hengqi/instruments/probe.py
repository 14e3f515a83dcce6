"""Finding the protocol and line settings of a port, and :func:`open_scale`.

Wrong line settings are the first support question users ask, so :func:`probe` tries them: on a serial port each
baud rate and framing in turn (network and loopback addresses have none), and on each it first listens (Toledo
continuous output streams without being asked), then asks in MT-SICS (``SI``), A&D (``Q``) and SBI (``ESC P``).
An instrument is recognised only by a reply its own codec decodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from hengqi.instruments import aandd, mtsics, sbi, toledo
from hengqi.instruments.drivers import DRIVERS
from hengqi.instruments.errors import (
    FrameError,
    LineSettingsError,
    ProtocolMismatchError,
    ScaleError,
    TransportError,
)
from hengqi.instruments.scale import DEFAULT_STABILITY_TIMEOUT, Scale
from hengqi.instruments.transport import (
    OPCUA_PROTOCOL,
    OPCUA_SCHEME,
    Address,
    Transport,
    open_transport,
    parse_address,
)

#: Baud rates tried on a serial port, most common first (9600: InstrumentKit and janelia defaults; 2400: and-balance).
BAUD_RATES: tuple[int, ...] = (9600, 2400, 4800, 19200, 1200, 38400)
#: Framings tried: (bytesize, parity, stopbits); 8N1 common, 7E1 A&D (and-balance), 7O1 Sartorius (sartorius client).
FRAMINGS: tuple[tuple[int, str, int], ...] = ((8, "N", 1), (7, "E", 1), (7, "O", 1), (8, "O", 1))
PROBE_TIMEOUT = 0.4


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What answered: the protocol, the settings that worked, the evidence, and a URL to use from now on."""

    protocol: str
    address: Address
    url: str
    evidence: str

    def as_json(self) -> dict[str, str]:
        """Plain JSON form."""
        return {"protocol": self.protocol, "url": self.url, "evidence": self.evidence}


def address_url(address: Address) -> str:
    """Write an address back as a URL including its protocol and (for serial ports) line settings.

    >>> address_url(parse_address("/dev/ttyUSB0").with_settings(protocol="and", baudrate=2400, bytesize=7, parity="E"))
    'serial:///dev/ttyUSB0?protocol=and&baud=2400&bytesize=7&parity=E&stopbits=1'
    """
    query: dict[str, str] = {}
    if address.protocol:
        query["protocol"] = address.protocol
    if address.scheme == "serial":
        query.update(
            baud=str(address.baudrate),
            bytesize=str(address.bytesize),
            parity=address.parity,
            stopbits=str(address.stopbits),
        )
    if address.checksum is not None:
        query["checksum"] = "1" if address.checksum else "0"
    if address.ack is not None:
        query["ack"] = address.ack
    query.update(dict(address.passthrough))
    base = {"serial": f"serial://{address.target}", "tcp": f"tcp://{address.target}"}.get(
        address.scheme, address.target.split("?", 1)[0]
    )
    return f"{base}?{urlencode(query, safe='/:')}" if query else base


def _listen_continuous(line: Transport) -> tuple[bool, str] | None:
    data = line.read_for(PROBE_TIMEOUT)
    start = data.find(b"\x02")
    while 0 <= start < len(data) - 17:
        for checksummed in (False, True):
            size = toledo.frame_length(checksummed)
            frame = data[start : start + size]
            try:
                toledo.decode_frame(frame)
            except FrameError:
                continue
            follows = data[start + size : start + size + 1]
            if follows in (b"\x02", b""):
                return checksummed, frame.decode("latin-1")
        start = data.find(b"\x02", start + 1)
    return None


def _ask(line: Transport, command: bytes) -> bytes | None:
    line.discard_input()
    line.write(command)
    try:
        return line.read_line(PROBE_TIMEOUT, max_length=64)
    except ScaleError:
        return None


def _identify_protocol(line: Transport) -> tuple[str, bool | None, str] | None:
    continuous = _listen_continuous(line)
    if continuous is not None:
        return "toledo-continuous", continuous[0], continuous[1]
    answer = _ask(line, mtsics.encode_command("SI"))
    if answer is not None:
        try:
            reply = mtsics.parse_reply(answer)
        except FrameError:
            reply = None
        if reply is not None and (reply.ident in {"S", "SI", "ES", "ET"}):
            return "mt-sics", None, reply.raw
    answer = _ask(line, aandd.encode_command("Q"))
    if answer is not None:
        try:
            and_line = aandd.parse_line(answer)
        except FrameError:
            and_line = None
        if and_line is not None and and_line.header in {"ST", "US", "QT", "OL", "EC"}:
            return "and", None, and_line.raw
    answer = _ask(line, sbi.encode_command("P"))
    if answer is not None:
        try:
            output = sbi.parse_output(answer)
        except FrameError:
            output = None
        if output is not None and output.kind in {"weight", "status"}:
            return "sbi", None, output.raw
    return None


def _settings(address: Address) -> Iterable[Address]:
    if address.scheme != "serial":
        yield address
        return
    given = address.with_settings()
    yield given
    for baud in BAUD_RATES:
        for bytesize, parity, stopbits in FRAMINGS:
            candidate = address.with_settings(baudrate=baud, bytesize=bytesize, parity=parity, stopbits=stopbits)
            if candidate != given:
                yield candidate


def probe(url: str | Address) -> ProbeResult:
    """Find the protocol (and on serial ports the line settings) an instrument answers in.

    :class:`TransportError` if the port cannot be opened; :class:`ProtocolMismatchError` if nothing known answered.
    """
    address = url if isinstance(url, Address) else parse_address(url)
    if address.scheme == OPCUA_SCHEME:  # an OPC UA server: answered if it exposes a ScaleDeviceType object
        from hengqi.instruments.opcua import SCALES_NS, OpcUaScale

        server = address.with_settings(protocol=OPCUA_PROTOCOL)
        with OpcUaScale(server, stability_timeout=address.timeout) as scale:
            evidence = f"{SCALES_NS} ScaleDeviceType object {scale.scale_name}"
        return ProbeResult(OPCUA_PROTOCOL, server, address_url(server), evidence)
    tried: list[str] = []
    refused: list[str] = []
    for setting in _settings(address):
        candidate = setting.with_settings(timeout=PROBE_TIMEOUT, protocol=None)
        framing = f"{candidate.baudrate} {candidate.bytesize}{candidate.parity}{candidate.stopbits}"
        try:
            line = open_transport(candidate)
        except LineSettingsError:  # e.g. a pseudo-terminal refuses 7-bit framings: try the next setting
            refused.append(framing)
            continue
        try:
            found = _identify_protocol(line)
        except TransportError:
            found = None
        finally:
            line.close()
        tried.append(framing)
        if found is not None:
            protocol, checksum, evidence = found
            result = candidate.with_settings(protocol=protocol, checksum=checksum, timeout=address.timeout)
            return ProbeResult(protocol, result, address_url(result), evidence)
    settings = f" at line settings {', '.join(tried)}" if address.scheme == "serial" and tried else ""
    if refused:
        settings += f"; the port refused the line settings {', '.join(refused)}"
    raise ProtocolMismatchError(address.url, f"no MT-SICS, A&D, SBI or Toledo continuous instrument answered{settings}")


def open_scale(url: str | Address, *, stability_timeout: float = DEFAULT_STABILITY_TIMEOUT) -> Scale:
    """Open the instrument at ``url`` with the driver of its protocol (named in the URL or found by :func:`probe`).

    >>> from hengqi.instruments.simulator import Simulator
    >>> with Simulator.start(protocol="mt-sics") as sim, open_scale(sim.url) as scale:
    ...     sim.place("100 g")
    ...     scale.read().raw
    'S S   100.0000 g'
    """
    address = url if isinstance(url, Address) else parse_address(url)
    if address.protocol == OPCUA_PROTOCOL:  # no byte transport; asyncua is imported only now
        from hengqi.instruments.opcua import OpcUaScale

        return OpcUaScale(address, stability_timeout=stability_timeout)
    if address.protocol is None:
        address = probe(address).address
    assert address.protocol is not None
    return DRIVERS[address.protocol](open_transport(address), stability_timeout=stability_timeout)
