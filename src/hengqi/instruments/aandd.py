"""A&D standard format codec.

Sources (captured in ``shared/reference/protocols.md`` section 3):

* A line is 15 characters plus CR LF: a 2-character header (``ST`` stable, ``US`` unstable, ``QT`` counting,
  ``OL`` overload), a comma, the sign, zero-padded data, a 3-character unit; example ``ST,+00123.45  g``
  (A&D GF-2002A manual p. 16) -- CONFIRMED.
* Overload line ``OL,+9999999E+19`` (A&D AD-4212D manual p. 29) -- CONFIRMED; the parser reads it as overload
  whatever the exponent (and-balance 0.0.1 crashes on it).
* Commands ``Q``, ``S``, ``SI``, ``SIR``, ``T``, ``Z``, ``C``, ``?ID``, ``?SN``, ``?TN`` as used by the
  ``and-balance`` client -- SECONDARY (a client, not the manual).
* The acknowledgement ``AK`` (06h), sent only when the balance's ``erCd`` setting is 1, twice (on receipt and on
  completion) for re-zero, zero and tare (A&D FX-i manual 15-2 p. 52; FZ-i manual 18.2) -- CONFIRMED; handled in
  :class:`hengqi.instruments.drivers.AndScale`.
* Unit codes (EK-i manual 9-2; EK-AEP manual p. 28, where ``t`` is the tola): :data:`hengqi.instruments.units.AND_UNITS`
  -- CONFIRMED.
* The ``EC,Exx`` error lines and the ``ID,``/``SN,``/``TN,`` answers are UNVERIFIED (from memory of A&D manuals,
  not read here); the parser accepts them and treats unknown error codes as a generic refusal.

>>> parse_line("ST,+00123.45  g").value
Decimal('123.45')
>>> parse_line("OL,+9999999E+19").header
'OL'
>>> format_line("US", "-1.5", "kg")
'US,-000001.5 kg'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from hengqi.instruments.errors import FrameError

CRLF: Final = b"\r\n"
ACK: Final = "\x06"

HEADERS: Final[dict[str, str]] = {"ST": "stable", "US": "unstable", "QT": "counting (stable)", "OL": "overload"}
COMMANDS: Final[frozenset[str]] = frozenset({"Q", "S", "SI", "SIR", "T", "Z", "C", "?ID", "?SN", "?TN"})
#: Error codes seen in A&D manuals (UNVERIFIED): the meaning hengqi gives each.
ERROR_CODES: Final[dict[str, str]] = {
    "E00": "communications error",
    "E01": "undefined command",
    "E02": "not ready",
    "E03": "timeout",
    "E04": "excess characters",
    "E06": "format error",
    "E07": "parameter setting error",
    "E11": "stability error",
}
OVERLOAD_LINE: Final = "OL,+9999999E+19"
_DATA: Final = re.compile(r"^([+-])([0-9.]{8})(.{3})$")
DATA_WIDTH: Final = 8


@dataclass(frozen=True, slots=True)
class AndLine:
    """One A&D output line: ``header`` (ST, US, QT, OL, EC, ID, SN, TN, AK), value and unit when weighed."""

    header: str
    raw: str
    value: Decimal | None = None
    text: str = ""
    unit: str = ""

    @property
    def stable(self) -> bool:
        """ST and QT lines are stable readings."""
        return self.header in {"ST", "QT"}


def encode_command(command: str) -> bytes:
    """Frame a command with CR LF.

    >>> encode_command("Q")
    b'Q\\r\\n'
    """
    if command not in COMMANDS:
        raise FrameError("not an A&D command", command)
    return command.encode("ascii") + CRLF


def format_line(header: str, text: str, unit: str) -> str:
    """Encode a weight line without CR LF: header, comma, sign, 8 zero-padded characters, 3-character unit."""
    if header not in {"ST", "US", "QT"}:
        raise FrameError("weight lines start with ST, US or QT", header)
    sign = "-" if text.startswith("-") else "+"
    digits = text.lstrip("+-")
    if len(digits) > DATA_WIDTH or len(unit) > 3:
        raise FrameError("value or unit too wide for the A&D standard format", f"{text} {unit}")
    return f"{header},{sign}{digits:0>{DATA_WIDTH}}{unit:>3}"


def parse_line(line: bytes | str) -> AndLine:
    """Decode one line (with or without CR LF).

    >>> parse_line("EC,E01").text
    'E01'
    >>> parse_line("\\x06").header
    'AK'
    """
    raw = line.decode("latin-1") if isinstance(line, bytes) else line
    text = raw.rstrip("\r\n")
    if text == ACK:
        return AndLine("AK", text)
    if len(text) < 3 or text[2] != ",":
        raise FrameError("an A&D line starts with a 2-character header and a comma", raw)
    header, body = text[:2], text[3:]
    if header == "OL":
        return AndLine("OL", text, text=body)
    if header in {"EC", "ID", "SN", "TN"}:
        return AndLine(header, text, text=body.strip())
    if header not in HEADERS:
        raise FrameError(f"unknown A&D header {header!r}", raw)
    match = _DATA.match(body)
    if match is None:
        raise FrameError("an A&D weight line has a sign, 8 data characters and a 3-character unit", raw)
    sign, digits, unit = match.groups()
    try:
        value = Decimal(digits)
    except InvalidOperation as err:
        raise FrameError("the A&D data field is not a number", raw) from err
    if sign == "-":
        value = -value
    return AndLine(header, text, value=value, text=str(value), unit=unit.strip())
