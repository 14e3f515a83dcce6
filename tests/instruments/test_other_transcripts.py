"""SBI, A&D and Toledo continuous driver transcripts (protocols.md sections 2, 3, 4); exact, no tolerance."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from decimal import Decimal

import pytest

from hengqi.instruments.drivers import AndScale, SbiScale, ToledoContinuousScale
from hengqi.instruments.errors import (
    ProtocolMismatchError,
    ScaleCommandError,
    ScaleNotSupportedError,
    ScaleOverloadError,
    ScaleSyntaxError,
    ScaleUnderloadError,
    ScaleUnstableError,
)
from hengqi.instruments.scale import Scale
from hengqi.instruments.toledo import ContinuousFrame, encode_frame
from hengqi.instruments.transport import open_transport

from .transcript import Pair, ScriptedDevice


def run(kind: type[Scale], pairs: list[Pair], action, query: str = ""):  # type: ignore[no-untyped-def]
    with ScriptedDevice(pairs) as device:
        scale = kind(open_transport(f"{device.url}?timeout=1{query}"), stability_timeout=0.3)
        try:
            return action(scale)
        finally:
            scale.close()
            device.close()
            device.assert_done()


# -- Sartorius SBI -----------------------------------------------------------------------------------------------
def test_sbi_print_22_characters_manual_example() -> None:
    reading = run(SbiScale, [(b"\x1bP", b"N     +   123.56 g  \r\n")], lambda s: s.read())
    assert (reading.value, reading.unit, reading.stable, reading.net) == (Decimal("123.56"), "g", True, True)


def test_sbi_print_16_characters() -> None:
    reading = run(SbiScale, [(b"\x1bP", b"-     0.50 kg \r\n")], lambda s: s.read())
    assert reading.value == Decimal("-0.50")
    assert reading.unit == "kg"


def test_sbi_unstable_then_stable_and_blank_unit() -> None:
    pairs = [(b"\x1bP", b"G     +   123.50     \r\n"), (b"\x1bP", b"G     +   123.56 g  \r\n")]
    reading = run(SbiScale, pairs, lambda s: s.read())
    assert reading.stable
    assert reading.net is False


def test_sbi_unstable_forever_times_out() -> None:
    pairs = [(b"\x1bP", b"N     +     1.00     \r\n")] * 40
    with ScriptedDevice(pairs) as device:
        scale = SbiScale(open_transport(f"{device.url}?timeout=1"), stability_timeout=0.05)
        with pytest.raises(ScaleUnstableError):
            scale.read()
        scale.close()


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"Stat     H          \r\n", ScaleOverloadError),
        (b"Stat     L          \r\n", ScaleUnderloadError),
        (b"Stat     ERR  XYZ   \r\n", ScaleCommandError),
    ],
)
def test_sbi_stat_lines(line: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        run(SbiScale, [(b"\x1bP", line)], lambda s: s.read())


def test_sbi_commands_and_info() -> None:
    pairs = [
        (b"\x1bV", b""),
        (b"\x1bU", b""),
        (b"\x1bx1_", b"LA230S\r\n"),
        (b"\x1bx2_", b"12345678\r\n"),
        (b"\x1bx3_", b"00-38-04\r\n"),
        (b"\x1bP", b"N     +   0.0000 g  \r\n"),
    ]

    def act(s: SbiScale) -> object:
        s.zero()
        s.tare()
        return s.identify()

    identity = run(SbiScale, pairs, act)
    assert (identity.model, identity.serial, identity.software) == ("LA230S", "12345678", "00-38-04")
    assert identity.d_kg == Decimal("1E-7")
    with pytest.raises(ScaleNotSupportedError):
        run(SbiScale, [], lambda s: s.clear_tare())


def test_sbi_foreign_reply() -> None:
    with pytest.raises(ProtocolMismatchError):
        run(SbiScale, [(b"\x1bP", b"+garbage\r\n")], lambda s: s.read())


# -- A&D ---------------------------------------------------------------------------------------------------------
def test_and_stable_manual_example() -> None:
    pairs = [(b"Q\r\n", b"US,+00123.41  g\r\n"), (b"S\r\n", b"ST,+00123.45  g\r\n")]
    reading = run(AndScale, pairs, lambda s: s.read())
    assert (reading.value, reading.unit, reading.stable) == (Decimal("123.45"), "g", True)


def test_and_unstable_and_counting() -> None:
    assert not run(AndScale, [(b"Q\r\n", b"US,-00001.50 kg\r\n")], lambda s: s.read(stable=False)).stable
    reading = run(AndScale, [(b"Q\r\n", b"QT,+00000100PCS\r\n")], lambda s: s.read(stable=False))
    assert reading.value == Decimal("100")
    assert reading.value_kg is None


def test_and_overload_line_with_exponent() -> None:
    with pytest.raises(ScaleOverloadError) as caught:
        run(AndScale, [(b"Q\r\n", b"OL,+9999999E+19\r\n")], lambda s: s.read())
    assert "OL,+9999999E+19" in str(caught.value)


def test_and_negative_overload_line_is_underload() -> None:
    with pytest.raises(ScaleUnderloadError):
        run(AndScale, [(b"Q\r\n", b"OL,-9999999E+19\r\n")], lambda s: s.read(stable=False))


@pytest.mark.parametrize(("code", "error"), [(b"E01", ScaleSyntaxError), (b"E11", ScaleUnstableError)])
def test_and_error_codes(code: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        run(AndScale, [(b"T\r\n", b"EC," + code + b"\r\n")], lambda s: s.tare())


def test_and_ack_and_identity() -> None:
    pairs = [
        (b"Z\r\n", b"\x06\r\n"),
        (b"T\r\n", b"\x06\r\n"),
        (b"?TN\r\n", b"TN,  GF-2002A\r\n"),
        (b"?SN\r\n", b"SN,01234567\r\n"),
        (b"?ID\r\n", b"ID,LAB-0001\r\n"),
        (b"Q\r\n", b"ST,+0123.456  g\r\n"),
    ]

    def act(s: AndScale) -> object:
        s.zero()
        s.tare()
        return s.identify()

    identity = run(AndScale, pairs, act)
    assert (identity.model, identity.serial) == ("GF-2002A", "01234567")
    assert identity.d_kg == Decimal("0.000001")


# -- Toledo continuous -------------------------------------------------------------------------------------------
def _frame(value: str, *, motion: bool = False, out: bool = False, checksum: bool = False) -> bytes:
    return encode_frame(
        ContinuousFrame(Decimal(value), Decimal("0.00"), unit="kg", motion=motion, out_of_range=out),
        with_checksum=checksum,
    )


class StreamingDevice:
    """A continuous-output instrument on loopback: cycles through ``frames``, one every 10 ms, until closed."""

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames
        self._server = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self._server.getsockname()[1]}?timeout=1"

    def _run(self) -> None:
        conn, _ = self._server.accept()
        with conn:
            for frame in itertools.cycle(self.frames):
                if self._stop.is_set():
                    return
                try:
                    conn.sendall(frame)
                except OSError:
                    return
                time.sleep(0.01)

    def __enter__(self) -> StreamingDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()


def read_stream(frames: list[bytes], stable: bool, query: str = "") -> object:
    with StreamingDevice(frames) as device:
        scale = ToledoContinuousScale(open_transport(device.url + query), stability_timeout=0.3)
        try:
            return scale.read(stable=stable)
        finally:
            scale.close()


def test_toledo_waits_for_no_motion() -> None:
    frames = [_frame("12.30", motion=True), _frame("12.34")]
    reading = read_stream(frames, True)
    assert reading.value == Decimal("12.34")
    assert reading.stable
    assert read_stream(frames, False).value in {Decimal("12.30"), Decimal("12.34")}  # type: ignore[attr-defined]
    with pytest.raises(ScaleUnstableError):
        read_stream([_frame("1.00", motion=True)], True)


def test_toledo_checksummed_frames() -> None:
    reading = read_stream([_frame("5.00", checksum=True)], True, "&checksum=1")
    assert reading.value == Decimal("5.00")
    assert reading.stable


def test_toledo_bad_checksum_is_a_typed_error() -> None:
    frame = bytearray(_frame("5.00", checksum=True))
    frame[-1] ^= 0x01
    with pytest.raises(ProtocolMismatchError):
        read_stream([bytes(frame)], True, "&checksum=1")


def test_toledo_out_of_range() -> None:
    with pytest.raises(ScaleOverloadError):
        read_stream([_frame("99.99", out=True)], True)


def test_toledo_commands_are_single_bytes() -> None:
    def act(s: ToledoContinuousScale) -> None:
        s.zero()
        s.tare()
        s.clear_tare()

    run(ToledoContinuousScale, [(b"Z", b""), (b"T", b""), (b"C", b"")], act)
