"""Mettler-Toledo continuous output codec.

Sources (captured in ``shared/reference/protocols.md`` section 4: Rockwell 57C428 Toledo scale interface user
guide p. 37; Mettler-Toledo ICS425a user manual p. 50):

* A frame is ``STX``, three status bytes ``SWA SWB SWC``, 6 digits of indicated weight, 6 digits of tare (no
  decimal point, no unit), ``CR`` and an optional checksum: 17 or 18 bytes -- CONFIRMED.
* The checksum is the two's complement of the 7-bit sum of all characters, STX and CR included -- CONFIRMED.
* Input commands ``P`` (print), ``T`` (tare), ``Z`` (zero), ``C`` (clear) -- CONFIRMED (ICS425a).
* Status bits (METTLER TOLEDO WILDCAT Scale Technical Manual (12/00) p. 6-5, Tables 6-9 to 6-11) -- CONFIRMED,
  and an independent reader written from those tables reads the simulator (``tests/instruments/manual_clients.py``):

  - SWA bits 0-2 decimal position (0: x100, 1: x10, 2: x1, 3: 0.1, 4: 0.01, 5: 0.001, 6: 0.0001, 7: 0.00001),
    bits 3-4 increment (1: x1, 2: x2, 3: x5), bit 5 always 1, bit 6 always 0;
  - SWB bit 0 net, bit 1 negative, bit 2 out of range, bit 3 motion, bit 4 kg (else lb), bit 5 always 1, bit 6
    power-up not zeroed;
  - SWC bit 0 grams, bit 5 always 1.  hengqi also reads SWC code 2 as the tonne, which other Mettler-Toledo
    indicators use and the WILDCAT manual does not list (bits 1-2 "always 0" there) -- UNVERIFIED.

>>> frame = encode_frame(ContinuousFrame(Decimal("12.34"), Decimal("0.50"), unit="kg", net=True))
>>> frame
b'\\x02,1 001234000050\\r'
>>> decode_frame(frame).value
Decimal('12.34')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from hengqi.instruments.errors import FrameError

STX: Final = 0x02
CR: Final = 0x0D
FRAME_LENGTH: Final = 17
COMMANDS: Final[dict[str, str]] = {"P": "print", "T": "tare", "Z": "zero", "C": "clear"}
_DECIMALS_BY_CODE: Final = {0: -2, 1: -1, 2: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5}
_CODE_BY_DECIMALS: Final = {v: k for k, v in _DECIMALS_BY_CODE.items()}
_UNIT_CODES: Final = {1: "g", 2: "t"}
_INCREMENTS: Final = {1: 1, 2: 2, 3: 5}


@dataclass(frozen=True, slots=True)
class ContinuousFrame:
    """One decoded frame: indicated weight and tare (with sign and decimal position applied) and the flags."""

    value: Decimal
    tare: Decimal
    unit: str = "kg"
    net: bool = False
    motion: bool = False
    out_of_range: bool = False
    increment: int = 1
    raw: bytes = b""
    #: Decimal places from SWA (-2 and -1 for the x100 and x10 positions); set by :func:`decode_frame`.
    places: int | None = None

    @property
    def interval(self) -> Decimal | None:
        """The scale interval shown: increment x 10^-places (None on a frame that was not decoded)."""
        return None if self.places is None else Decimal(self.increment).scaleb(-self.places)

    @property
    def stable(self) -> bool:
        """No motion and in range."""
        return not self.motion and not self.out_of_range


def checksum(data: bytes) -> int:
    """Two's complement of the 7-bit sum of ``data`` (STX through CR).

    >>> checksum(b"\\x02") + 2 & 0x7F
    0
    """
    return -sum(data) & 0x7F


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 0


def encode_frame(frame: ContinuousFrame, *, with_checksum: bool = False) -> bytes:
    """Encode a frame; the decimal position comes from the exponent of ``frame.value`` (``Decimal("1.20")``: 2).

    The weight printed is the magnitude; a negative value sets the sign bit.
    """
    places = max(_decimals(frame.value), _decimals(frame.tare)) if frame.places is None else frame.places
    if places not in _CODE_BY_DECIMALS:
        raise FrameError("the continuous format shows 0 to 5 decimals", str(frame.value))
    scale = Decimal(10) ** places
    weight, tare = int(abs(frame.value) * scale), int(abs(frame.tare) * scale)
    if weight != abs(frame.value) * scale or tare != abs(frame.tare) * scale:
        raise FrameError("value and tare must be multiples of the decimal position", str(frame.value))
    if weight > 999_999 or tare > 999_999:
        raise FrameError("the continuous format has 6 digits", str(frame.value))
    increment_code = {v: k for k, v in _INCREMENTS.items()}.get(frame.increment)
    if increment_code is None:
        raise FrameError("the increment is 1, 2 or 5", str(frame.increment))
    swa = 0x20 | _CODE_BY_DECIMALS[places] | increment_code << 3
    unit_code = {v: k for k, v in _UNIT_CODES.items()}.get(frame.unit, 0)
    if unit_code == 0 and frame.unit not in {"kg", "lb"}:
        raise FrameError("the continuous format reports lb, kg, g or t", frame.unit)
    swb = (
        0x20
        | int(frame.net)
        | int(frame.value < 0) << 1
        | int(frame.out_of_range) << 2
        | int(frame.motion) << 3
        | int(frame.unit != "lb") << 4
    )
    swc = 0x20 | unit_code
    body = bytes([STX, swa, swb, swc]) + f"{weight:06d}{tare:06d}".encode("ascii") + bytes([CR])
    return body + bytes([checksum(body)]) if with_checksum else body


def decode_frame(data: bytes) -> ContinuousFrame:
    """Decode a 17-byte frame, or an 18-byte frame whose checksum is verified.

    >>> decode_frame(b"\\x02\\x2a\\x30\\x20000100000000\\r").motion
    False
    """
    if len(data) not in {FRAME_LENGTH, FRAME_LENGTH + 1}:
        raise FrameError(f"a continuous frame has 17 or 18 bytes, not {len(data)}", data)
    if data[0] != STX or data[16] != CR:
        raise FrameError("a continuous frame starts with STX and has CR at byte 17", data)
    if len(data) == FRAME_LENGTH + 1 and checksum(data[:17]) != data[17]:
        raise FrameError("continuous frame checksum mismatch", data)
    swa, swb, swc = data[1], data[2], data[3]
    if not (swa & swb & swc & 0x20):
        raise FrameError("status bytes of a continuous frame have bit 5 set", data)
    digits = data[4:16].decode("latin-1")
    if not digits.isdigit():
        raise FrameError("a continuous frame carries 12 digits", data)
    places = _DECIMALS_BY_CODE[swa & 0x07]
    increment = _INCREMENTS.get(swa >> 3 & 0x03)
    if increment is None:
        raise FrameError("invalid increment code in SWA", data)
    scale = Decimal(10) ** -places
    weight = (Decimal(int(digits[:6])) * scale).quantize(scale if places > 0 else Decimal(1))
    tare = (Decimal(int(digits[6:])) * scale).quantize(scale if places > 0 else Decimal(1))
    if swb & 0x02:
        weight = -weight
    unit = _UNIT_CODES.get(swc & 0x07, "kg" if swb & 0x10 else "lb")
    return ContinuousFrame(
        value=weight,
        tare=tare,
        unit=unit,
        net=bool(swb & 0x01),
        motion=bool(swb & 0x08),
        out_of_range=bool(swb & 0x04),
        increment=increment,
        raw=bytes(data),
        places=places,
    )


def frame_length(checksummed: bool) -> int:
    """17 bytes, or 18 with the checksum."""
    return FRAME_LENGTH + int(checksummed)
