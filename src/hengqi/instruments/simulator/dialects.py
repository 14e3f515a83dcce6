"""The simulator's side of each protocol: cut commands from the input, answer them from the model.

Answers are built with the same codecs the drivers decode (:mod:`hengqi.instruments.mtsics` etc.), and their
formats were checked against independent clients (InstrumentKit, mettler_toledo_device, sartorius) in the tests.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from hengqi.instruments import aandd, mtsics, sbi, toledo
from hengqi.instruments.errors import FrameError
from hengqi.instruments.simulator.model import Indication, WeighingModel, display_text
from hengqi.metrology.quantities import MASS_UNITS

CRLF = b"\r\n"


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the simulated instrument says about itself."""

    model: str = "HQ-SIM"
    serial: str = "SIM0000001"
    software: str = "hengqi-sim 1.0"


@dataclass(slots=True)
class Session:
    """Per-connection state: whether the instrument streams, and when the next streamed line is due."""

    streaming: bool = False
    next_stream: float = 0.0


class Dialect(ABC):
    """One protocol spoken by the simulator."""

    name: str
    #: Seconds between streamed lines (SIR, continuous output).
    stream_interval: float = 0.05
    #: True when the instrument streams without being asked (Toledo continuous output).
    continuous: bool = False

    def __init__(self, model: WeighingModel, info: DeviceInfo) -> None:
        self.model = model
        self.info = info

    @abstractmethod
    def split(self, buffer: bytes) -> tuple[list[str], bytes]:
        """Complete commands at the front of ``buffer`` and the rest."""

    @abstractmethod
    def handle(self, command: str, session: Session) -> bytes:
        """The reply to one command (may be empty)."""

    def stream(self, session: Session) -> bytes:
        """The next streamed line (SIR or continuous output)."""
        return b""

    def wait_stable(self) -> bool:
        """Wait (on the model's clock) for stability, at most the stability timeout; True if stable."""
        wait = self.model.time_until_stable()
        limit = self.model.imperfections.stability_timeout_s
        if wait <= 0:
            return True
        self.model.clock.sleep(min(wait, limit))
        return wait <= limit


def _split_lines(buffer: bytes) -> tuple[list[str], bytes]:
    """Lines ended by LF or CR LF (a lone CR also ends a line: some terminals send only CR)."""
    commands: list[str] = []
    text = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    *lines, rest = text.split(b"\n")
    for line in lines:
        if line.strip():
            commands.append(line.decode("latin-1"))
    if len(rest) > 256:  # no terminator in sight: drop the junk rather than grow without bound
        commands.append("\x00")
        rest = b""
    return commands, rest


class MtSicsDialect(Dialect):
    """MT-SICS levels 0 and 1 and the level-2 identification commands."""

    name = "mt-sics"

    def split(self, buffer: bytes) -> tuple[list[str], bytes]:
        return _split_lines(buffer)

    def _line(self, text: str) -> bytes:
        return text.encode("latin-1") + CRLF

    def _weight(self, ident: str, indication: Indication, *, stable_only: bool = False) -> str:
        if indication.overload:
            return f"{ident} +"
        if indication.underload:
            return f"{ident} -"
        if stable_only and not indication.stable:
            return f"{ident} I"
        status = "S" if indication.stable else "D"
        return mtsics.format_weight(ident, status, indication.text, indication.unit)

    def stream(self, session: Session) -> bytes:
        return self._line(self._weight("S", self.model.indication()))

    def handle(self, command: str, session: Session) -> bytes:
        try:
            name, args = mtsics.decode_command(command)
        except FrameError:
            return self._line("ET" if "\x00" in command else "ES")
        session.streaming = name == "SIR"
        return self._line(self._answer(name, args, session))

    def _answer(self, name: str, args: tuple[str, ...], session: Session) -> str:
        model, info = self.model, self.info
        if name not in {"TA", "D"} and args:
            return "ES" if name not in mtsics.COMMANDS else "EL"
        if name == "@":
            return mtsics.format_reply("I4", "A", info.serial)
        if name == "I0":
            names = list(mtsics.COMMANDS)
            lines = [f'I0 B {mtsics.COMMANDS[n]} "{n}"' for n in names[:-1]]
            lines.append(f'I0 A {mtsics.COMMANDS[names[-1]]} "{names[-1]}"')
            return "\r\n".join(lines)
        if name == "I1":
            return mtsics.format_reply("I1", "A", "01", "2.20", "2.20", "1.00", "")
        if name == "I2":
            capacity = (model.spec.max_kg / MASS_UNITS[model.unit]).quantize(Decimal(1).scaleb(-model.decimals))
            return mtsics.format_reply("I2", "A", f"{info.model} {capacity} {model.unit}")
        if name == "I3":
            return mtsics.format_reply("I3", "A", info.software)
        if name == "I4":
            return mtsics.format_reply("I4", "A", info.serial)
        if name == "S":
            self.wait_stable()
            return self._weight("S", model.indication(), stable_only=True)
        if name in {"SI", "SIR"}:
            return self._weight("S", model.indication())
        if name in {"Z", "ZI"}:
            stable = self.wait_stable() if name == "Z" else model.time_until_stable() <= 0
            outcome = model.zero(require_stable=name == "Z")
            if outcome == "unstable":
                return f"{name} I"
            if outcome in {"+", "-"}:
                return f"{name} {outcome}"
            return "Z A" if name == "Z" else f"ZI {'S' if stable else 'D'}"
        if name in {"T", "TI"}:
            stable = self.wait_stable() if name == "T" else model.time_until_stable() <= 0
            outcome = model.tare(require_stable=name == "T")
            if outcome == "unstable":
                return f"{name} I"
            if outcome in {"+", "-"}:
                return f"{name} {outcome}"
            text, unit = model.tare_reading()
            return mtsics.format_weight(name, "S" if stable else "D", text, unit)
        if name == "TA":
            if args:
                return self._preset_tare(args)
            text, unit = model.tare_reading()
            return mtsics.format_weight("TA", "A", text, unit)
        if name == "TAC":
            model.clear_tare()
            return "TAC A"
        if name == "D":
            return "D A" if len(args) <= 1 else "D L"
        if name == "DW":
            return "DW A"
        return "ES"

    def _preset_tare(self, args: tuple[str, ...]) -> str:
        if len(args) != 2 or args[1] not in MASS_UNITS:
            return "TA L"
        try:
            value = Decimal(args[0]) * MASS_UNITS[args[1]]
        except InvalidOperation:
            return "TA L"
        if not value.is_finite() or not self.model.set_tare(value):
            return "TA L"
        text, unit = self.model.tare_reading()
        return mtsics.format_weight("TA", "A", text, unit)


class SbiDialect(Dialect):
    """Sartorius SBI: ESC commands, no reply except to print and the information commands."""

    name = "sbi"

    def __init__(self, model: WeighingModel, info: DeviceInfo, *, width: int = 22) -> None:
        super().__init__(model, info)
        self.width = width

    def split(self, buffer: bytes) -> tuple[list[str], bytes]:
        commands, rest, _stray = sbi.split_commands(buffer)
        return commands, rest

    def handle(self, command: str, session: Session) -> bytes:
        model = self.model
        if command == "P":
            indication = model.indication()
            if indication.overload:
                return sbi.format_status("H", self.width).encode() + CRLF
            if indication.underload:
                return sbi.format_status("L", self.width).encode() + CRLF
            ident = "N" if indication.net else "G"
            line = sbi.format_output(
                indication.text, indication.unit, stable=indication.stable, ident=ident, width=self.width
            )
            return line.encode("latin-1") + CRLF
        if command == "T":
            indication = model.indication()
            if indication.tare_kg == 0 and abs(indication.gross_kg) <= model.spec.max_kg / 50:
                model.zero()
            else:
                model.tare()
        elif command == "U":
            model.tare()
        elif command == "V":
            model.zero()
        elif command == "S":
            model.clear_tare()
            model.zero(require_stable=False)
        elif command in {"x1_", "x2_", "x3_"}:
            text = {"x1_": self.info.model, "x2_": self.info.serial, "x3_": self.info.software}[command]
            return text.encode("latin-1") + CRLF
        return b""


class AndDialect(Dialect):
    """A&D standard format."""

    name = "and"

    def split(self, buffer: bytes) -> tuple[list[str], bytes]:
        return _split_lines(buffer)

    def _weight(self, indication: Indication) -> bytes:
        if indication.overload:
            return aandd.OVERLOAD_LINE.encode() + CRLF
        if indication.underload:
            return b"OL,-9999999E+19" + CRLF
        header = "ST" if indication.stable else "US"
        return aandd.format_line(header, indication.text, indication.unit).encode("latin-1") + CRLF

    def stream(self, session: Session) -> bytes:
        return self._weight(self.model.indication())

    def handle(self, command: str, session: Session) -> bytes:
        name = command.strip()
        session.streaming = name == "SIR"
        if name in {"Q", "SI", "SIR"}:
            return self._weight(self.model.indication())
        if name == "S":
            if not self.wait_stable():
                return b"EC,E11" + CRLF
            return self._weight(self.model.indication())
        if name in {"T", "Z"}:
            self.wait_stable()
            outcome = self.model.tare() if name == "T" else self.model.zero()
            return (aandd.ACK.encode() if outcome == "ok" else b"EC,E11" if outcome == "unstable" else b"EC,E07") + CRLF
        if name == "C":
            return b""
        if name in {"?ID", "?SN", "?TN"}:
            value = {"?ID": "HQ00001", "?SN": self.info.serial, "?TN": self.info.model}[name]
            return f"{name[1:]},{value}".encode("latin-1") + CRLF
        return b"EC,E01" + CRLF


class ToledoDialect(Dialect):
    """Toledo continuous output: a frame every ``stream_interval``; ``P``, ``T``, ``Z``, ``C`` single bytes."""

    name = "toledo-continuous"
    continuous = True

    def __init__(self, model: WeighingModel, info: DeviceInfo, *, checksum: bool = False) -> None:
        super().__init__(model, info)
        self.checksum = checksum

    def split(self, buffer: bytes) -> tuple[list[str], bytes]:
        return [chr(b) for b in buffer if chr(b) in toledo.COMMANDS], b""

    def stream(self, session: Session) -> bytes:
        indication = self.model.indication()
        size = MASS_UNITS[indication.unit]
        step = (indication.d_kg / size).normalize()
        exponent = step.as_tuple().exponent
        exact = -exponent if isinstance(exponent, int) else 0
        places = min(5, max(-2, exact))  # SWA shows x100 ... 0.00001
        increment = _increment(step.scaleb(places)) if places == exact else 1
        quantum = Decimal(1).scaleb(-places)
        frame = toledo.ContinuousFrame(
            value=Decimal(display_text(indication.net_kg / size, quantum)),
            tare=Decimal(display_text(indication.tare_kg / size, quantum)),
            unit=indication.unit,
            net=indication.net,
            motion=not indication.stable,
            out_of_range=indication.overload or indication.underload,
            increment=increment,
            places=places,
        )
        try:
            return toledo.encode_frame(frame, with_checksum=self.checksum)
        except FrameError:  # more than 6 digits: the format cannot show it, flag out of range
            blank = toledo.ContinuousFrame(
                Decimal(0), Decimal(0), unit=indication.unit, out_of_range=True, increment=increment, places=places
            )
            return toledo.encode_frame(blank, with_checksum=self.checksum)

    def handle(self, command: str, session: Session) -> bytes:
        if command == "P":
            return self.stream(session)
        if command == "T":
            self.model.tare()
        elif command == "Z":
            self.model.zero()
        elif command == "C":
            self.model.clear_tare()
        session.next_stream = time.monotonic()
        return b""


def _increment(ratio: Decimal) -> int:
    """The SWA increment (1, 2 or 5) of a scale interval expressed in display digits (1 where it is not one)."""
    return int(ratio) if ratio in (1, 2, 5) else 1


def make_dialect(
    protocol: str, model: WeighingModel, info: DeviceInfo, *, sbi_width: int = 22, checksum: bool = False
) -> Dialect:
    """The dialect object for a protocol name."""
    if protocol == "mt-sics":
        return MtSicsDialect(model, info)
    if protocol == "sbi":
        return SbiDialect(model, info, width=sbi_width)
    if protocol == "and":
        return AndDialect(model, info)
    if protocol == "toledo-continuous":
        return ToledoDialect(model, info, checksum=checksum)
    raise ValueError(f"unknown protocol {protocol!r}")
