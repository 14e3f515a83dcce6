"""Thin drivers: MT-SICS, Sartorius SBI, A&D standard format and Toledo continuous output.

Each driver only frames commands with its codec, reads with deadlines and maps replies to typed errors; the
formats and their sources are documented in the codec modules.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

from hengqi.instruments import aandd, mtsics, sbi, toledo
from hengqi.instruments.errors import (
    ProtocolMismatchError,
    ScaleCommandError,
    ScaleLogicalError,
    ScaleNotExecutableError,
    ScaleNotSupportedError,
    ScaleOverloadError,
    ScaleSyntaxError,
    ScaleTransmissionError,
    ScaleUnderloadError,
    ScaleUnstableError,
    TransportTimeout,
)
from hengqi.instruments.reading import Identity, Reading, reading_from_text
from hengqi.instruments.scale import Scale, resolution_kg
from hengqi.instruments.units import AND_UNITS, SBI_UNITS

ACK_BYTE = aandd.ACK.encode("ascii")

_MTSICS_STATUS_ERRORS: dict[str, type[ScaleCommandError]] = {
    "I": ScaleNotExecutableError,
    "L": ScaleLogicalError,
    "+": ScaleOverloadError,
    "-": ScaleUnderloadError,
}
_MTSICS_GENERAL_ERRORS: dict[str, type[ScaleCommandError]] = {
    "ES": ScaleSyntaxError,
    "ET": ScaleTransmissionError,
    "EL": ScaleLogicalError,
}
#: Reply IDs accepted for each command (``SI``: both ``S`` and ``SI``, protocols.md 1.3; ``@``: ``I4``).
_MTSICS_REPLY_IDS: dict[str, frozenset[str]] = {
    "@": frozenset({"I4", "@"}),
    "SI": frozenset({"S", "SI"}),
    "SIR": frozenset({"S", "SI", "SIR"}),
}


class MtSicsScale(Scale):
    """MT-SICS levels 0 and 1 and the level-2 identification commands."""

    protocol = "mt-sics"
    protocol_title = "MT-SICS"
    make = "Mettler-Toledo"

    def command(self, name: str, *args: str, timeout: float | None = None) -> mtsics.MtSicsReply:
        """Send one command and return its checked reply (typed error for ES/ET/EL and I/L/+/-)."""
        data = mtsics.encode_command(name, *args)

        def exchange() -> mtsics.MtSicsReply:
            self.transport.write(data)
            return self._reply_to(name, timeout)

        return self._locked(exchange)

    def _reply_to(self, name: str, timeout: float | None) -> mtsics.MtSicsReply:
        expected = _MTSICS_REPLY_IDS.get(name, frozenset({name}))
        for _ in range(8):  # skip stale lines of an earlier command (e.g. a running SIR)
            line = self.transport.read_line(timeout)
            reply = self._decode(mtsics.parse_reply, line, name)
            if reply.is_general_error:
                raise _MTSICS_GENERAL_ERRORS[reply.ident](self.url, name, reply.raw)
            if reply.ident in expected:
                if reply.status in _MTSICS_STATUS_ERRORS:
                    error = _MTSICS_STATUS_ERRORS[reply.status]
                    if name == "S" and reply.status == "I":
                        error = ScaleUnstableError
                    raise error(self.url, name, reply.raw)
                return reply
        raise self._decode_failure(name, line)

    def _decode_failure(self, name: str, line: bytes) -> ProtocolMismatchError:
        return self._mismatch(name, line.decode("latin-1"))

    def _weight(self, reply: mtsics.MtSicsReply, name: str) -> Reading:
        weight = self._decode(mtsics.parse_weight, reply.raw.encode("latin-1"), name)
        if weight.value is None or weight.text is None or weight.unit is None:
            raise self._decode_failure(name, reply.raw.encode("latin-1"))
        return reading_from_text(weight.text, weight.unit, stable=weight.status in {"S", "A"}, raw=weight.raw)

    def read(self, stable: bool = True) -> Reading:
        """A reading; a stable one asks ``SI`` first (answered at once, so a silent line fails within the URL's
        ``timeout=``) and waits up to the stability timeout with ``S`` only when that reading is dynamic."""
        now = self._weight(self.command("SI"), "SI")
        if now.stable or not stable:
            return now
        timeout = max(self.stability_timeout, self.transport.timeout)
        return self._weight(self.command("S", timeout=timeout), "S")

    def zero(self) -> None:
        self.command("Z", timeout=max(self.stability_timeout, self.transport.timeout))

    def zero_immediately(self) -> bool:
        """``ZI``: zero now; True when the balance was stable (``ZI S``; ``ZI D``: dynamic)."""
        return self.command("ZI").status != "D"

    def tare(self) -> None:
        self.command("T", timeout=max(self.stability_timeout, self.transport.timeout))

    def tare_immediately(self) -> Reading:
        """``TI``: tare now and return the tare value stored."""
        return self._weight(self.command("TI"), "TI")

    def tare_value(self) -> Reading:
        """``TA``: the tare value stored."""
        return self._weight(self.command("TA"), "TA")

    def preset_tare(self, value: Decimal, unit: str) -> Reading:
        """``TA <value> <unit>``: set a preset tare; returns the tare the balance stored."""
        return self._weight(self.command("TA", format(value, "f"), unit), "TA")

    def clear_tare(self) -> None:
        self.command("TAC")

    def reset(self) -> str:
        """``@``: cancel running commands; returns the serial number from the ``I4`` reply."""
        reply = self.command("@")
        return reply.fields[0] if reply.fields else ""

    def display(self, text: str) -> None:
        """``D``: show a text on the display."""
        self.command("D", mtsics.quote(text))

    def display_weight(self) -> None:
        """``DW``: show the weight again."""
        self.command("DW")

    def commands(self) -> mtsics.CommandList:
        """``I0``: the commands the balance implements (multi-line reply)."""

        def exchange() -> mtsics.CommandList:
            self.transport.write(mtsics.encode_command("I0"))
            lines: list[str] = []
            while True:
                reply = self._reply_to("I0", None)
                lines.append(reply.raw)
                if reply.status != "B" or len(lines) > 200:
                    return mtsics.parse_command_list(lines)

        return self._locked(exchange)

    def stream(self, count: int) -> Iterator[Reading]:
        """``SIR``: ``count`` readings sent by the balance as fast as it can, then ``@`` stops the stream."""
        with self._lock:
            self.transport.write(mtsics.encode_command("SIR"))
            try:
                for _ in range(count):
                    yield self._weight(self._reply_to("SIR", None), "SIR")
            finally:
                self.transport.write(mtsics.encode_command("@"))
                self._reply_to("@", None)

    def identify(self) -> Identity:
        texts: dict[str, str | None] = {}
        for name in ("I1", "I2", "I3", "I4"):
            try:
                reply = self.command(name)
            except (ScaleSyntaxError, ScaleNotExecutableError, ScaleLogicalError):
                texts[name] = None
                continue
            texts[name] = " ".join(reply.fields) if name != "I1" else (reply.fields[0] if reply.fields else None)
        model, capacity, unit = mtsics.parse_balance_data(texts["I2"] or "")
        probe = self.read(stable=False)
        size = None if unit is None else resolution_kg("1", unit)
        return Identity(
            protocol=self.protocol,
            make=self.make,
            model=model or None,
            serial=texts["I4"],
            software=texts["I3"],
            capacity_kg=None if capacity is None or size is None else capacity * size,
            d_kg=resolution_kg(str(probe.value), probe.unit),
            d_source="displayed decimals",
            level=texts["I1"],
        )


class SbiScale(Scale):
    """Sartorius SBI: ESC commands, 16- or 22-character output lines."""

    protocol = "sbi"
    protocol_title = "Sartorius SBI"
    make = "Sartorius"

    def _print(self) -> sbi.SbiOutput:
        def exchange() -> sbi.SbiOutput:
            self.transport.write(sbi.encode_command("P"))
            return self._decode(sbi.parse_output, self.transport.read_line(), "ESC P")

        output = self._locked(exchange)
        if output.kind == "status":
            if output.limit == "overload":
                raise ScaleOverloadError(self.url, "ESC P", output.raw)
            if output.limit == "underload":
                raise ScaleUnderloadError(self.url, "ESC P", output.raw)
            raise ScaleCommandError(self.url, "ESC P", output.raw, f"balance status {output.text!r}")
        if output.kind != "weight" or output.value is None:
            raise self._mismatch("ESC P", output.raw)
        return output

    #: The unit of the last stable line: SBI leaves the unit field blank while the reading moves.
    _known_unit: str = ""

    def read(self, stable: bool = True) -> Reading:
        deadline = time.monotonic() + self.stability_timeout
        while True:
            output = self._print()
            if output.unit:
                self._known_unit = output.unit
            if output.stable or not stable:
                return reading_from_text(
                    output.text if output.value is None else str(output.value),
                    output.unit or self._known_unit,
                    stable=output.stable,
                    raw=output.raw,
                    net=output.net,
                    units=SBI_UNITS,
                )
            if time.monotonic() > deadline:
                raise ScaleUnstableError(self.url, "ESC P", output.raw)
            time.sleep(0.02)

    def _send(self, command: str) -> None:
        self._locked(lambda: self.transport.write(sbi.encode_command(command)))

    def zero(self) -> None:
        self._send("V")

    def tare(self) -> None:
        self._send("U")

    def clear_tare(self) -> None:
        raise ScaleNotSupportedError(self.url, "clear tare", "", "SBI has no clear-tare command")

    def _info(self, command: str) -> str:
        def exchange() -> str:
            self.transport.write(sbi.encode_command(command))
            return self.transport.read_line().decode("latin-1").strip()

        return self._locked(exchange)

    def identify(self) -> Identity:
        model, serial, software = self._info("x1_"), self._info("x2_"), self._info("x3_")
        probe = self.read(stable=False)
        return Identity(
            protocol=self.protocol,
            make=self.make,
            model=model or None,
            serial=serial or None,
            software=software or None,
            d_kg=resolution_kg(str(probe.value), probe.unit),
            d_source="displayed decimals",
        )


class AndScale(Scale):
    """A&D standard format (``ST``/``US``/``QT``/``OL`` lines).

    Acknowledgements follow the FX-i/FZ-i manuals (15-2 / 18.2 "Acknowledge Code and Error Codes"): a balance
    sends ``AK`` (06h) only when its ``erCd`` setting is 1; re-zero, zero and tare are then acknowledged twice, on
    receipt and on completion; some indicators send ``AK`` without CR LF.  The URL's ``ack=none|once|twice`` says
    which the balance does; unset, the driver adapts (and a late second ``AK`` never spoils the next reply).
    """

    protocol = "and"
    protocol_title = "A&D"
    make = "A&D"

    def _reply(self, timeout: float | None) -> bytes:
        """One reply: a line ended by CR LF, or a bare ``AK`` byte (blank line ends before a reply are skipped)."""
        while True:
            first = self.transport.read_exactly(1, timeout)
            if first in (b"\r", b"\n"):
                continue
            if first == ACK_BYTE:
                return first
            return first + self.transport.read_line(timeout)

    def _check(self, command: str, line: aandd.AndLine) -> aandd.AndLine:
        if line.header == "OL":  # "OL,-..." below the range (UNVERIFIED: the manuals show only "OL,+...")
            limit: type[ScaleCommandError] = ScaleUnderloadError if line.text.startswith("-") else ScaleOverloadError
            raise limit(self.url, command, line.raw)
        if line.header == "EC":
            error: type[ScaleCommandError] = {
                "E01": ScaleSyntaxError,
                "E02": ScaleNotExecutableError,
                "E11": ScaleUnstableError,
            }.get(line.text, ScaleCommandError)
            raise error(
                self.url,
                command,
                line.raw,
                f"A&D error {line.text}: {aandd.ERROR_CODES.get(line.text, 'unknown error code')}",
            )
        return line

    def _line(self, command: str, timeout: float | None = None) -> aandd.AndLine:
        def exchange() -> aandd.AndLine:
            self.transport.write(aandd.encode_command(command))
            for _ in range(4):
                line = self._decode(aandd.parse_line, self._reply(timeout), command)
                if line.header != "AK":
                    return line
                # a late second AK of an earlier zero or tare (FX-i 15-2): not the answer to this command
            raise self._mismatch(command, line.raw)

        return self._check(command, self._locked(exchange))

    def read(self, stable: bool = True) -> Reading:
        """A reading; a stable one asks ``Q`` first (answered at once, so a silent line fails within the URL's
        ``timeout=``) and waits up to the stability timeout with ``S`` only when that reading is unstable."""
        now = self._reading("Q", None)
        if now.stable or not stable:
            return now
        return self._reading("S", max(self.stability_timeout, self.transport.timeout))

    def _reading(self, command: str, timeout: float | None) -> Reading:
        line = self._line(command, timeout)
        if line.value is None:
            raise self._mismatch(command, line.raw)
        return reading_from_text(line.text, line.unit, stable=line.stable, raw=line.raw, units=AND_UNITS)

    def _acknowledged(self, command: str) -> None:
        mode = self.transport.address.ack
        completion = max(self.stability_timeout, self.transport.timeout)

        def expect_ak(timeout: float | None) -> None:
            line = self._check(command, self._decode(aandd.parse_line, self._reply(timeout), command))
            if line.header != "AK":
                raise self._mismatch(command, line.raw)

        def exchange() -> bool:
            self.transport.discard_input()  # a late AK of an earlier command
            self.transport.write(aandd.encode_command(command))
            if mode == "none":
                return False
            try:
                expect_ak(None)
            except TransportTimeout as err:
                if mode is None and not err.partial:  # erCd 0: the balance acknowledges nothing
                    return False
                raise
            if mode == "twice":
                expect_ak(completion)
            return True

        if not self._locked(exchange):
            self.read(stable=False)  # no acknowledgement: the balance must still answer, or this fails

    def zero(self) -> None:
        self._acknowledged("Z")

    def tare(self) -> None:
        self._acknowledged("T")

    def clear_tare(self) -> None:
        raise ScaleNotSupportedError(self.url, "clear tare", "", "the A&D standard command set has no clear tare")

    def identify(self) -> Identity:
        texts: dict[str, str | None] = {}
        for command in ("?TN", "?SN", "?ID"):
            try:
                texts[command] = self._line(command).text or None
            except ScaleCommandError:
                texts[command] = None
        probe = self.read(stable=False)
        return Identity(
            protocol=self.protocol,
            make=self.make,
            model=texts["?TN"],
            serial=texts["?SN"],
            software=None,
            d_kg=resolution_kg(str(probe.value), probe.unit),
            d_source="displayed decimals",
            level=texts["?ID"],
        )


class ToledoContinuousScale(Scale):
    """Mettler-Toledo continuous output: the instrument streams frames; ``Z``/``T``/``C`` are single bytes."""

    protocol = "toledo-continuous"
    protocol_title = "Toledo continuous"
    make = "Mettler-Toledo"

    def frame(self) -> toledo.ContinuousFrame:
        """The next complete frame (input older than this call is dropped first)."""

        def exchange() -> toledo.ContinuousFrame:
            self.transport.discard_input()
            self.transport.read_until(b"\x02", max_length=64)
            body = self.transport.read_until(b"\r", max_length=32)
            frame = b"\x02" + body + b"\r"
            checksum = self.transport.address.checksum
            if checksum:
                frame += self.transport.read_exactly(1)
            return self._decode(toledo.decode_frame, frame, "continuous output")

        return self._locked(exchange)

    def read(self, stable: bool = True) -> Reading:
        deadline = time.monotonic() + self.stability_timeout
        while True:
            frame = self.frame()
            if frame.out_of_range:
                error = ScaleUnderloadError if frame.value < 0 else ScaleOverloadError
                raise error(self.url, "continuous output", frame.raw.decode("latin-1"))
            if frame.stable or not stable:
                return reading_from_text(
                    str(frame.value), frame.unit, stable=frame.stable, net=frame.net, raw=frame.raw.decode("latin-1")
                )
            if time.monotonic() > deadline:
                raise ScaleUnstableError(self.url, "continuous output", frame.raw.decode("latin-1"))

    def _send(self, command: str) -> None:
        self._locked(lambda: self.transport.write(command.encode("ascii")))

    def zero(self) -> None:
        self._send("Z")

    def tare(self) -> None:
        self._send("T")

    def clear_tare(self) -> None:
        self._send("C")

    def identify(self) -> Identity:
        frame = self.frame()
        size = resolution_kg("1", frame.unit)
        d = None if size is None or frame.interval is None else frame.interval * size
        return Identity(protocol=self.protocol, make=None, d_kg=d, d_source="status byte SWA")


DRIVERS: dict[str, type[Scale]] = {
    cls.protocol: cls for cls in (MtSicsScale, SbiScale, AndScale, ToledoContinuousScale)
}
