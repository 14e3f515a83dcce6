"""Sartorius SBI codec: ESC commands and the 16- and 22-character output lines.

Sources (captured in ``shared/reference/protocols.md`` section 2):

* Commands are ``ESC !`` or ``ESC ! # _``, CR LF optional: ``ESC P`` print, ``ESC T`` tare/zero (TARE key),
  ``ESC U`` tare, ``ESC V`` zero, ``ESC Z`` internal adjustment, ``ESC S`` restart, ``ESC x1_``/``x2_``/``x3_``
  model/serial/software (Sartorius MSE manual p. 71; the ``sartorius`` client) -- CONFIRMED.
* 22-character output: a 6-character ID (``N`` net, ``G`` gross, ...), the sign, a 9-character field, a space,
  a 3-character unit, CR LF; status lines start with ``Stat`` (GC803S manual p. 57) -- CONFIRMED in outline;
  exact character positions UNVERIFIED.  The 16-character format is DERIVED here as the 22-character line
  without its 6-character ID (sign, 9 characters, space, unit, CR LF = 16); the manual's field list adds to 15.
* An empty unit field means "not stable" (behaviour documented by the ``sartorius`` client) -- SECONDARY.
* ``Stat`` texts ``H`` (overload) and ``L`` (underload) follow the balances' display symbols -- UNVERIFIED.

Commands are framed by the ESC byte, not by lines (the ``sartorius`` serial client sends no CR LF).

>>> format_output("123.56", "g", stable=True)
'N     +   123.56 g  '
>>> parse_output("N     +   123.56 g  \\r\\n").value
Decimal('123.56')
>>> encode_command("x1_")
b'\\x1bx1_'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from hengqi.instruments.errors import FrameError

ESC: Final = b"\x1b"
CRLF: Final = b"\r\n"

#: Commands understood by the driver and the simulator (protocols.md 2).
COMMANDS: Final[dict[str, str]] = {
    "P": "print (send the reading)",
    "T": "tare/zero (TARE key)",
    "U": "tare",
    "V": "zero",
    "Z": "internal adjustment",
    "S": "restart",
    "x1_": "model",
    "x2_": "serial number",
    "x3_": "software version",
}
_COMMAND: Final = re.compile(r"^(?:[A-Z]|[a-z][0-9]{0,3}_)$")
_BODY: Final = re.compile(r"^([+\- ])\s*([0-9]*\.?[0-9]+)\s*(\S{0,3})\s*$")
#: Width of the value field after the sign (protocols.md 2: 9 characters in the 22-character example).
VALUE_WIDTH: Final = 9
ID_WIDTH: Final = 6


@dataclass(frozen=True, slots=True)
class SbiOutput:
    """One SBI output line.

    ``kind`` is ``"weight"`` (``value``, ``unit``, ``stable``, ``ident`` set), ``"status"`` (a ``Stat`` line;
    ``text`` holds its message) or ``"text"`` (any other line, e.g. the answer to ``ESC x1_``).
    """

    kind: str
    raw: str
    ident: str = ""
    value: Decimal | None = None
    text: str = ""
    unit: str = ""
    stable: bool = False

    @property
    def net(self) -> bool | None:
        """True for an ``N`` (net) line, False for ``G`` (gross), None when the line has no ID."""
        return {"N": True, "G": False}.get(self.ident)


def encode_command(command: str) -> bytes:
    """Frame a command: ESC then the command letters (``P``, ``x1_``); no CR LF.

    >>> encode_command("P")
    b'\\x1bP'
    """
    if not _COMMAND.match(command):
        raise FrameError("not an SBI command (a capital letter, or a small letter, digits and '_')", command)
    return ESC + command.encode("ascii")


def split_commands(buffer: bytes) -> tuple[list[str], bytes, bytes]:
    """Cut complete ESC commands off the front of ``buffer`` (server side).

    Returns the commands (without ESC), the bytes not yet complete, and bytes that were not commands (stray data
    before an ESC, CR and LF excepted), so a server can answer them or ignore them.

    >>> split_commands(b"\\x1bP\\x1bx1_\\r\\n\\x1bx2")
    (['P', 'x1_'], b'\\x1bx2', b'')
    """
    commands: list[str] = []
    stray = bytearray()
    i = 0
    while i < len(buffer):
        byte = buffer[i : i + 1]
        if byte != ESC:
            if byte not in b"\r\n":
                stray += byte
            i += 1
            continue
        if i + 1 >= len(buffer):
            break
        first = buffer[i + 1 : i + 2]
        if first.isupper():
            commands.append(first.decode())
            i += 2
            continue
        if not first.islower():
            stray += buffer[i : i + 2]
            i += 2
            continue
        end = buffer.find(b"_", i + 2, i + 7)
        if end < 0:
            if len(buffer) - i < 7:
                break
            stray += buffer[i : i + 7]
            i += 7
            continue
        text = buffer[i + 1 : end + 1].decode("latin-1")
        if _COMMAND.match(text):
            commands.append(text)
        else:
            stray += buffer[i : end + 1]
        i = end + 1
    return commands, bytes(buffer[i:]), bytes(stray)


def format_output(text: str, unit: str, *, stable: bool, ident: str = "N", width: int = 22) -> str:
    """Encode a weight line without CR LF: 22 characters (with a 6-character ID) or 16 (without).

    An unstable reading leaves the unit field blank.

    >>> format_output("-0.5", "kg", stable=False, width=16)
    '-      0.5    '
    """
    if width not in {16, 22}:
        raise FrameError("SBI output is 16 or 22 characters wide", str(width))
    sign = "-" if text.startswith("-") else "+"
    digits = text.lstrip("+-")
    if len(digits) > VALUE_WIDTH:
        raise FrameError("value too wide for the SBI field", text)
    body = f"{sign}{digits:>{VALUE_WIDTH}} {(unit if stable else ''):<3}"
    return f"{ident:<{ID_WIDTH}}{body}" if width == 22 else body


def format_status(text: str, width: int = 22) -> str:
    """A ``Stat`` line (without CR LF), padded to the output width.

    >>> format_status("H")
    'Stat     H          '
    """
    return f"{'Stat':<{ID_WIDTH + 3}}{text}".ljust(width - 2)


def parse_output(line: bytes | str) -> SbiOutput:
    """Decode one output line (16 or 22 characters with CR LF; other lengths are read leniently).

    >>> parse_output("Stat     ERR  XYZ").kind
    'status'
    >>> parse_output("+      0.5    ").stable
    False
    """
    raw = line.decode("latin-1") if isinstance(line, bytes) else line
    text = raw.rstrip("\r\n")
    if not text.strip():
        raise FrameError("empty SBI line", raw)
    if any(ord(ch) < 32 for ch in text):
        raise FrameError("control characters in an SBI line", raw)
    if text.startswith("Stat"):
        return SbiOutput("status", text, ident="Stat", text=text[4:].strip())
    ident, body = "", text
    if len(text) >= ID_WIDTH + 8 and text[ID_WIDTH] in "+- " and text[:ID_WIDTH].strip().isalnum():
        ident, body = text[:ID_WIDTH].strip(), text[ID_WIDTH:]
    match = _BODY.match(body)
    if match is None:
        if text[:1] in "+-":
            raise FrameError("an SBI weight line has a sign, a number and a unit", raw)
        return SbiOutput("text", text, text=text.strip())
    sign, number, unit = match.groups()
    try:
        value = Decimal(("-" if sign == "-" else "") + number)
    except InvalidOperation as err:  # pragma: no cover - the pattern admits only numbers
        raise FrameError("the SBI value is not a number", raw) from err
    return SbiOutput("weight", text, ident=ident, value=value, text=number, unit=unit, stable=bool(unit))
