"""Independent readers of two protocols, written from the vendors' manuals only (no hengqi codec is used).

No maintained client library speaks the A&D standard format correctly (and-balance 0.0.1 crashes on the overload
line) or Mettler-Toledo continuous output at all, so these decoders stand in for one: each follows the manual's
byte layout literally and refuses anything else.

* A&D standard format: A&D EK-i series instruction manual, 9-2 "Data format": a 2-character header (ST, QT, US,
  OL), a comma, 9 characters of data (sign, digits, decimal point; "normally 9 digits including a decimal point and
  a sign"), a 3-character unit, CR LF.
* Toledo continuous output: METTLER TOLEDO WILDCAT Scale Technical Manual (12/00), Appendix 2, p. 6-4 (frame:
  STX, status words A, B, C, six digits of displayed weight, six digits of tare, CR, optional checksum = two's
  complement of the seven low bits of the sum of all preceding characters) and p. 6-5 (Tables 6-9 to 6-11: status
  word A bits 0-2 the decimal position, bits 3-4 the increment size; status word B bit 0 net, bit 1 negative, bit 2
  out of range, bit 3 motion, bit 4 kg; status word C bit 0 grams).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from decimal import Decimal


def _read_until(conn: socket.socket, end: bytes, limit: int = 64) -> bytes:
    data = b""
    while not data.endswith(end):
        chunk = conn.recv(1)
        if not chunk or len(data) > limit:
            raise ValueError(f"no {end!r} within {limit} bytes: {data!r}")
        data += chunk
    return data


@dataclass(frozen=True)
class AndReading:
    header: str
    value: Decimal | None
    unit: str


def and_query(conn: socket.socket) -> AndReading:
    """Send ``Q`` and decode the 17-byte answer per the EK-i manual 9-2."""
    conn.sendall(b"Q\r\n")
    line = _read_until(conn, b"\r\n")
    if len(line) != 17:
        raise ValueError(f"an A&D data line is 15 characters and CR LF, got {line!r}")
    text = line[:15].decode("ascii")
    header, comma, data, unit = text[:2], text[2], text[3:12], text[12:15]
    if header not in {"ST", "QT", "US", "OL"} or comma != ",":
        raise ValueError(f"bad header in {text!r}")
    if header == "OL":  # out of range: the data field is all 9s (EK-i 9-2) or "+9999999E+19" (AD-4212D p. 29)
        return AndReading(header, None, unit.strip())
    if data[0] not in "+-" or data[1:].count(".") > 1 or not data[1:].replace(".", "").isdigit():
        raise ValueError(f"bad data field in {text!r}")
    return AndReading(header, Decimal(data), unit.strip())


@dataclass(frozen=True)
class ToledoFrame:
    weight: Decimal
    tare: Decimal
    net: bool
    motion: bool
    out_of_range: bool
    unit: str
    increment: int


#: Status word A, bits 2-1-0 -> digits after the decimal point (negative: dummy zeros), WILDCAT Table 6-9.
_DECIMALS = {0b000: -2, 0b001: -1, 0b010: 0, 0b011: 1, 0b100: 2, 0b101: 3, 0b110: 4, 0b111: 5}
#: Status word A, bits 4-3 -> increment size (X1: bit 3; X2: bit 4; X5: both), Table 6-9.
_INCREMENTS = {0b01: 1, 0b10: 2, 0b11: 5}


def toledo_frame(conn: socket.socket, *, checksum: bool) -> ToledoFrame:
    """Read the next complete frame from a continuous-output stream (WILDCAT manual pp. 6-4, 6-5)."""
    _read_until(conn, b"\x02", limit=128)  # synchronise on STX
    body = b"\x02" + _read_until(conn, b"\r")
    if len(body) != 17:
        raise ValueError(f"a frame is 17 characters (18 with checksum), got {body!r}")
    if checksum:
        check = conn.recv(1)
        if (sum(body) + check[0]) & 0x7F != 0:
            raise ValueError(f"checksum {check!r} does not complete {body!r}")
    swa, swb, swc = body[1], body[2], body[3]
    if not (swa & 0x20 and not swa & 0x40 and swb & 0x20 and swc & 0x20 and not swc & 0x06):
        raise ValueError(f"constant status bits wrong in {body!r}")
    digits, tare_digits = body[4:10].decode("ascii"), body[10:16].decode("ascii")
    if not (digits.isdigit() and tare_digits.isdigit()):
        raise ValueError(f"weight fields are six digits: {body!r}")
    places = _DECIMALS[swa & 0x07]
    increment = _INCREMENTS.get((swa >> 3) & 0x03)
    if increment is None:
        raise ValueError(f"status word A names no increment size: {swa:#04x}")
    weight = Decimal(int(digits)).scaleb(-places)
    tare = Decimal(int(tare_digits)).scaleb(-places)
    unit = "g" if swc & 0x01 else ("kg" if swb & 0x10 else "lb")
    return ToledoFrame(
        weight=-weight if swb & 0x02 else weight,
        tare=tare,
        net=bool(swb & 0x01),
        motion=bool(swb & 0x08),
        out_of_range=bool(swb & 0x04),
        unit=unit,
        increment=increment,
    )
