"""Mettler-Toledo MT-SICS codec: pure functions from text to frozen reply records and back.

Sources (see ``shared/reference/protocols.md`` section 1, which captured them):

* Framing: ASCII, upper-case commands, parameters separated by one space, every command and reply ends with
  CR LF (Mettler AT-balance operating instructions p. 87; Btek T104 appendix B) -- CONFIRMED.
* Weight reply ``<ID> <status> <value> <unit>``, manual example ``S`` -> ``S S     100.00 g``; the value is
  right-aligned in a 10-character field after one space -- CONFIRMED as accepted by every client tested; the exact
  field widths of the reference manual are UNVERIFIED, so :func:`parse_reply` splits on blanks.
* Status codes ``S`` stable, ``D`` dynamic, ``I`` not executable, ``+`` overload, ``-`` underload, ``A`` done,
  ``L`` logical error; general errors ``ES``, ``ET``, ``EL`` -- CONFIRMED (protocols.md 1.3).
* ``SI`` may be answered with the ID ``S`` (manual) or ``SI`` (mt-sics-emulator): both are accepted.
* ``I0`` is multi-line, ``I0 B ...`` lines then a last ``I0 A ...`` line -- CONFIRMED (protocols.md 1.4).
* The reply to ``@`` (``I4 A "<serial>"``), the ``ZI S|D`` and ``TI S|D`` replies and the content of ``I2``
  (type, capacity and unit in one quoted string) are UNVERIFIED: they follow InstrumentKit and the snippet of
  protocols.md 5.5; the parser accepts ``A`` wherever ``S`` is expected for a command acknowledgement.

>>> parse_reply("S S     100.00 g")
MtSicsReply(ident='S', status='S', fields=('100.00', 'g'), raw='S S     100.00 g')
>>> parse_weight("S D    -12.305 g").value
Decimal('-12.305')
>>> format_weight("S", "S", "100.00", "g")
'S S     100.00 g'
>>> encode_command("D", '"HELLO"')
b'D "HELLO"\\r\\n'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from hengqi.instruments.errors import FrameError

CRLF: Final = b"\r\n"

#: Commands implemented by the driver and the simulator, by MT-SICS level (protocols.md 1.2).
COMMANDS: Final[dict[str, int]] = {
    "@": 0,
    "I0": 0,
    "I1": 0,
    "I2": 0,
    "I3": 0,
    "I4": 0,
    "S": 0,
    "SI": 0,
    "SIR": 0,
    "Z": 0,
    "ZI": 0,
    "D": 1,
    "DW": 1,
    "T": 1,
    "TA": 1,
    "TAC": 1,
    "TI": 1,
}

#: Meaning of the status field (protocols.md 1.3).
STATUS: Final[dict[str, str]] = {
    "S": "stable",
    "D": "dynamic",
    "I": "command not executable",
    "+": "overload",
    "-": "underload",
    "A": "command executed",
    "L": "logical error",
    "B": "more lines follow",
}

#: General error replies sent instead of a normal reply.
GENERAL_ERRORS: Final[dict[str, str]] = {
    "ES": "syntax error",
    "ET": "transmission error",
    "EL": "logical error",
}

_TOKEN: Final = re.compile(r'"([^"]*)"|(\S+)')
_COMMAND: Final = re.compile(r"^[@A-Z][A-Z0-9]*$")
_NUMBER: Final = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)$")
#: Width of the right-aligned value field (protocols.md 1.3, the manual example).
VALUE_WIDTH: Final = 10


@dataclass(frozen=True, slots=True)
class MtSicsReply:
    """One reply line: its ID, status (``""`` for ES/ET/EL) and the remaining fields (quotes removed)."""

    ident: str
    status: str
    fields: tuple[str, ...]
    raw: str

    @property
    def is_general_error(self) -> bool:
        """True for ``ES``, ``ET`` or ``EL``."""
        return self.ident in GENERAL_ERRORS


@dataclass(frozen=True, slots=True)
class WeightReply:
    """A weight reply ``<ID> <status> <value> <unit>``; value and unit are None for ``I``, ``+``, ``-``, ``L``."""

    ident: str
    status: str
    value: Decimal | None
    text: str | None
    unit: str | None
    raw: str

    @property
    def stable(self) -> bool:
        """True when the balance reported the value as stable (status ``S``)."""
        return self.status == "S"


def encode_command(command: str, *args: str) -> bytes:
    """Frame a command: the name, its parameters separated by one space, then CR LF (ASCII only).

    >>> encode_command("SI")
    b'SI\\r\\n'
    """
    if not _COMMAND.match(command):
        raise FrameError("not an MT-SICS command name", command)
    text = " ".join((command, *args))
    if "\r" in text or "\n" in text:
        raise FrameError("a command must not contain CR or LF", text)
    return text.encode("latin-1") + CRLF


def quote(text: str) -> str:
    """A quoted text parameter (``D "text"``); characters are 8-bit ASCII 32-255 (protocols.md 1.1)."""
    if '"' in text or any(ord(ch) < 32 or ord(ch) > 255 for ch in text):
        raise FrameError("text parameters take 8-bit ASCII 32-255 without double quotes", text)
    return f'"{text}"'


def decode_command(line: bytes | str) -> tuple[str, tuple[str, ...]]:
    """Split a received command line into its name and parameters (server side).

    >>> decode_command(b'D "HELLO WORLD"\\r\\n')
    ('D', ('HELLO WORLD',))
    """
    text = line.decode("latin-1") if isinstance(line, bytes) else line
    text = text.strip("\r\n ")
    tokens = [q if q else t for q, t in (m.groups(default="") for m in _TOKEN.finditer(text))]
    if not tokens or not _COMMAND.match(tokens[0]):
        raise FrameError("not an MT-SICS command", text)
    return tokens[0], tuple(tokens[1:])


def parse_reply(line: bytes | str) -> MtSicsReply:
    """Decode one reply line (with or without its CR LF) into a :class:`MtSicsReply`.

    >>> parse_reply("ES").is_general_error
    True
    >>> parse_reply('I4 A "0123456789"').fields
    ('0123456789',)
    """
    text = line.decode("latin-1") if isinstance(line, bytes) else line
    text = text.rstrip("\r\n")
    if not text.strip():
        raise FrameError("empty MT-SICS reply", text)
    if any(ord(ch) < 32 for ch in text):
        raise FrameError("control characters in an MT-SICS reply", text)
    matches = [m.groups(default="") for m in _TOKEN.finditer(text)]
    ident = matches[0][1]
    if not ident or not _COMMAND.match(ident):
        raise FrameError("an MT-SICS reply starts with a command ID", text)
    if ident in GENERAL_ERRORS:
        if len(matches) != 1:
            raise FrameError("an MT-SICS general error has no fields", text)
        return MtSicsReply(ident, "", (), text)
    if len(matches) < 2 or matches[1][0] or matches[1][1] not in STATUS:
        raise FrameError("an MT-SICS reply needs a status (S, D, I, +, -, A, L, B) after the ID", text)
    fields = tuple(q if q or t == "" else t for q, t in matches[2:])
    return MtSicsReply(ident, matches[1][1], fields, text)


def parse_weight(line: bytes | str) -> WeightReply:
    """Decode a weight reply (``S``, ``SI``, ``SIR``, ``T``, ``TI``, ``TA``).

    >>> parse_weight("S +").status, parse_weight("S +").value
    ('+', None)
    """
    reply = parse_reply(line)
    if reply.is_general_error:
        return WeightReply(reply.ident, "", None, None, None, reply.raw)
    if reply.status in {"S", "D", "A"}:
        if len(reply.fields) != 2:
            raise FrameError("a weight reply has a value and a unit", reply.raw)
        text, unit = reply.fields
        if not _NUMBER.match(text):
            raise FrameError("the weight value is not a plain decimal number", reply.raw)
        try:
            value = Decimal(text)
        except InvalidOperation as err:
            raise FrameError("the weight value is not a number", reply.raw) from err
        if not value.is_finite():
            raise FrameError("the weight value is not a finite number", reply.raw)
        return WeightReply(reply.ident, reply.status, value, text, unit, reply.raw)
    if reply.fields:
        raise FrameError(f"status {reply.status!r} carries no value", reply.raw)
    return WeightReply(reply.ident, reply.status, None, None, None, reply.raw)


def format_weight(ident: str, status: str, text: str, unit: str) -> str:
    """Encode a weight reply line (without CR LF): value right-aligned in a 10-character field.

    >>> format_weight("S", "D", "-0.3", "kg")
    'S D       -0.3 kg'
    """
    if status not in {"S", "D", "A"}:
        raise FrameError("only S, D and A replies carry a weight", status)
    return f"{ident} {status} {text:>{VALUE_WIDTH}} {unit}"


def format_reply(ident: str, status: str = "", *fields: str, quoted: bool = True) -> str:
    """Encode any reply line (without CR LF); text fields are quoted unless ``quoted`` is False.

    >>> format_reply("I4", "A", "SIM0000001")
    'I4 A "SIM0000001"'
    >>> format_reply("ES")
    'ES'
    """
    parts = [ident] + ([status] if status else []) + [quote(f) if quoted else f for f in fields]
    return " ".join(parts)


@dataclass(frozen=True, slots=True)
class CommandList:
    """The ``I0`` answer: (level, command) pairs."""

    commands: tuple[tuple[int, str], ...]

    def names(self) -> frozenset[str]:
        """The command names."""
        return frozenset(name for _, name in self.commands)


def parse_command_list(lines: list[str]) -> CommandList:
    """Decode the multi-line ``I0`` answer (``I0 B <level> "<cmd>"`` ... ``I0 A <level> "<cmd>"``).

    >>> parse_command_list(['I0 B 0 "I0"', 'I0 A 1 "TAC"']).commands
    ((0, 'I0'), (1, 'TAC'))
    """
    pairs: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        reply = parse_reply(line)
        last = i == len(lines) - 1
        if reply.ident != "I0" or reply.status != ("A" if last else "B"):
            raise FrameError("I0 lists 'I0 B' lines and ends with one 'I0 A' line", reply.raw)
        if len(reply.fields) == 2 and reply.fields[0].isdigit():
            pairs.append((int(reply.fields[0]), reply.fields[1]))
    return CommandList(tuple(pairs))


def parse_balance_data(text: str) -> tuple[str, Decimal | None, str | None]:
    """Split the ``I2`` text (``"<type> <capacity> <unit>"``) into model, capacity and unit.

    UNVERIFIED layout (protocols.md lists only "balance data"); a text that does not end in a number and a unit
    yields the whole text as the model.

    >>> parse_balance_data("XS204 220.0000 g")
    ('XS204', Decimal('220.0000'), 'g')
    >>> parse_balance_data("B123456789")
    ('B123456789', None, None)
    """
    parts = text.split()
    if len(parts) >= 3:
        try:
            capacity = Decimal(parts[-2])
        except InvalidOperation:
            return text.strip(), None, None
        if capacity.is_finite() and capacity > 0:
            return " ".join(parts[:-2]), capacity, parts[-1]
    return text.strip(), None, None
