"""Sartorius SBI codec: ESC commands and the 16- and 22-character output lines.

Sources (captured in ``shared/reference/protocols.md`` section 2, and the manuals named here):

* Commands are ``ESC !`` or ``ESC ! # _``, CR LF optional: ``ESC P`` print, ``ESC T`` tare/zero (TARE key),
  ``ESC U`` tare, ``ESC V`` zero, ``ESC Z`` internal adjustment, ``ESC S`` restart, ``ESC x1_``/``x2_``/``x3_``
  model/serial/software (Sartorius MSE manual p. 71; the ``sartorius`` client) -- CONFIRMED.
* 16-character output (Sartorius GC803S manual p. 57; FB series manual p. 66): column 1 the sign or a space,
  column 2 a space, columns 3-10 the value with its decimal point (leading zeros as spaces), column 11 a space,
  columns 12-14 the unit symbol, CR LF -- CONFIRMED.  Some models print a digit in column 2 (ME215S manual
  p. 135; MC1 manual p. 111), so the parser accepts one there; :func:`format_output` writes the space.
* 22-character output: a 6-character ID code in front of the 16-character line (GC803S p. 57; Master series
  manual p. 5-5); status lines carry ``Stat`` in columns 1-4 and the two status characters in columns 13-14,
  error lines ``ERR`` in columns 10-12 and the number in 14-16 (Master series manual p. 5-5; BP 3100 P manual
  p. 59) -- CONFIRMED.
* Special codes of the 16-character format: ``H`` overload and ``L`` underload in column 7 (``HH``/``LL`` in
  columns 7-8 during checkweighing), ``C`` adjustment (Combics 3 manual p. 94 "Special Codes"); ``High`` and
  ``Low`` in columns 7-10 on Quintix/Entris II (Quintix manual p. 87 "Special Outputs") -- CONFIRMED.
* An empty unit field means "not stable" (MC1 manual p. 111: "If the weighing system has not stabilized, no
  unit symbol is output") -- CONFIRMED.

Commands are framed by the ESC byte, not by lines (the ``sartorius`` serial client sends no CR LF).

>>> format_output("123.56", "g", stable=True)
'N     +   123.56 g  '
>>> parse_output("N     +   123.56 g  \\r\\n").value
Decimal('123.56')
>>> parse_output("      H       \\r\\n").limit
'overload'
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
#: Width of the value field (16-character format columns 3-10, after the sign and a space).
VALUE_WIDTH: Final = 8
ID_WIDTH: Final = 6
#: Special codes that mean the load is outside the weighing range (Combics 3 p. 94; Quintix p. 87).
OVERLOAD_CODES: Final = frozenset({"H", "HH", "High"})
UNDERLOAD_CODES: Final = frozenset({"L", "LL", "Low"})
#: Other special codes of the 16-character format: adjustment, final readout, error lines.
_SPECIAL: Final = re.compile(r"^(?:C|--|Cal\.(?:Ext|Int)\.|Err\s*\d{2,3})$")


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
    def limit(self) -> str | None:
        """``"overload"`` or ``"underload"`` for a status line or special code that says so, else None."""
        if self.kind != "status":
            return None
        if self.text in OVERLOAD_CODES:
            return "overload"
        if self.text in UNDERLOAD_CODES:
            return "underload"
        return None

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

    Sign, a space, 8 value characters, a space, the 3-character unit (GC803S manual p. 57); an unstable reading
    leaves the unit field blank.

    >>> format_output("-0.5", "kg", stable=False, width=16)
    '-      0.5    '
    >>> format_output("1234.5678", "g", stable=True)
    Traceback (most recent call last):
    ...
    hengqi.instruments.errors.FrameError: value too wide for the SBI field: '1234.5678'
    """
    if width not in {16, 22}:
        raise FrameError("SBI output is 16 or 22 characters wide", str(width))
    sign = "-" if text.startswith("-") else "+"
    digits = text.lstrip("+-")
    if len(digits) > VALUE_WIDTH:
        raise FrameError("value too wide for the SBI field", text)
    body = f"{sign} {digits:>{VALUE_WIDTH}} {(unit if stable else ''):<3}"
    return f"{ident:<{ID_WIDTH}}{body}" if width == 22 else body


def format_status(text: str, width: int = 22) -> str:
    """A status line without CR LF: 22 characters ``Stat`` + the code in columns 13-14 (Master series manual
    p. 5-5), or the 16-character special code in column 7 (Combics 3 manual p. 94).

    >>> format_status("H")
    'Stat        H       '
    >>> format_status("L", 16)
    '      L       '
    """
    if width not in {16, 22}:
        raise FrameError("SBI output is 16 or 22 characters wide", str(width))
    if width == 16:
        return f"{'':{ID_WIDTH}}{text}".ljust(width - 2)
    return f"{'Stat':<12}{text}".ljust(width - 2)


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
        return SbiOutput("status", text, ident="Stat", text=" ".join(text[4:].split()))
    special = text.strip()
    if special in OVERLOAD_CODES or special in UNDERLOAD_CODES or _SPECIAL.match(special):
        return SbiOutput("status", text, text=" ".join(special.split()))
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
