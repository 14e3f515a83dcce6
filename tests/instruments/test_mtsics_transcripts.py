"""MT-SICS driver transcripts: (sent, reply) pairs as given in the manuals captured in protocols.md section 1.

Reply texts: ``S S     100.00 g`` is the manual example (Mettler AT-balance instructions p. 87); status codes S, D,
I, +, -, A, L and the general errors ES, ET, EL are from protocols.md 1.3.  Exact, no tolerance.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from hengqi.instruments.drivers import MtSicsScale
from hengqi.instruments.errors import (
    ProtocolMismatchError,
    ScaleLogicalError,
    ScaleNotExecutableError,
    ScaleOverloadError,
    ScaleSyntaxError,
    ScaleTransmissionError,
    ScaleUnderloadError,
    ScaleUnstableError,
    TransportTimeout,
)
from hengqi.instruments.transport import open_transport

from .transcript import Pair, ScriptedDevice


def scale_for(device: ScriptedDevice) -> MtSicsScale:
    return MtSicsScale(open_transport(f"{device.url}?timeout=0.4"), stability_timeout=1)


def run(pairs: list[Pair], action):  # type: ignore[no-untyped-def]
    with ScriptedDevice(pairs) as device:
        scale = scale_for(device)
        try:
            return action(scale)
        finally:
            scale.close()
            device.close()
            device.assert_done()


#: A stable read asks SI first; a dynamic answer sends it on to S (which waits for stability).
DYNAMIC_FIRST = (b"SI\r\n", b"S D      99.98 g\r\n")


def test_s_stable_weight_manual_example() -> None:
    reading = run([DYNAMIC_FIRST, (b"S\r\n", b"S S     100.00 g\r\n")], lambda s: s.read())
    assert reading.value == Decimal("100.00")
    assert reading.unit == "g"
    assert reading.stable is True
    assert reading.value_kg == Decimal("0.1")
    assert reading.raw == "S S     100.00 g"


@pytest.mark.parametrize("ident", [b"S", b"SI"])
def test_si_accepts_both_reply_ids_and_dynamic_status(ident: bytes) -> None:
    reading = run([(b"SI\r\n", ident + b" D      12.34 g\r\n")], lambda s: s.read(stable=False))
    assert reading.value == Decimal("12.34")
    assert reading.stable is False


@pytest.mark.parametrize(
    ("command", "reply", "error"),
    [
        (b"S\r\n", b"S I\r\n", ScaleUnstableError),
        (b"S\r\n", b"S +\r\n", ScaleOverloadError),
        (b"S\r\n", b"S -\r\n", ScaleUnderloadError),
        (b"S\r\n", b"S L\r\n", ScaleLogicalError),
        (b"S\r\n", b"ES\r\n", ScaleSyntaxError),
        (b"S\r\n", b"ET\r\n", ScaleTransmissionError),
        (b"S\r\n", b"EL\r\n", ScaleLogicalError),
    ],
)
def test_status_and_general_error_replies_to_s(command: bytes, reply: bytes, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        run([DYNAMIC_FIRST, (command, reply)], lambda s: s.read())
    assert reply.strip().decode() in str(caught.value)
    assert "tcp://127.0.0.1:" in str(caught.value)


def test_s_i_is_also_not_executable() -> None:
    with pytest.raises(ScaleNotExecutableError):
        run([DYNAMIC_FIRST, (b"S\r\n", b"S I\r\n")], lambda s: s.read())


@pytest.mark.parametrize(
    ("reply", "error"),
    [(b"Z I\r\n", ScaleNotExecutableError), (b"Z +\r\n", ScaleOverloadError), (b"Z -\r\n", ScaleUnderloadError)],
)
def test_zero_refusals(reply: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        run([(b"Z\r\n", reply)], lambda s: s.zero())


def test_zero_tare_clear_and_immediate_variants() -> None:
    pairs = [
        (b"Z\r\n", b"Z A\r\n"),
        (b"ZI\r\n", b"ZI D\r\n"),
        (b"T\r\n", b"T S     100.00 g\r\n"),
        (b"TI\r\n", b"TI D      50.00 g\r\n"),
        (b"TA\r\n", b"TA A     100.00 g\r\n"),
        (b"TA 25.50 g\r\n", b"TA A      25.50 g\r\n"),
        (b"TAC\r\n", b"TAC A\r\n"),
        (b'D "HELLO"\r\n', b"D A\r\n"),
        (b"DW\r\n", b"DW A\r\n"),
        (b"@\r\n", b'I4 A "0123456789"\r\n'),
    ]

    def act(s: MtSicsScale) -> tuple[object, ...]:
        s.zero()
        stable = s.zero_immediately()
        s.tare()
        tare_now = s.tare_immediately()
        tare = s.tare_value()
        assert s.preset_tare(Decimal("25.50"), "g").value == Decimal("25.50")
        s.clear_tare()
        s.display("HELLO")
        s.display_weight()
        return stable, tare_now, tare, s.reset()

    stable, tare_now, tare, serial = run(pairs, act)
    assert stable is False
    assert tare_now.value == Decimal("50.00")
    assert not tare_now.stable
    assert tare.value == Decimal("100.00")
    assert serial == "0123456789"


@pytest.mark.parametrize(
    ("command", "reply", "error"),
    [
        (b"T\r\n", b"T I\r\n", ScaleNotExecutableError),
        (b"T\r\n", b"T +\r\n", ScaleOverloadError),
        (b"T\r\n", b"T -\r\n", ScaleUnderloadError),
        (b"TAC\r\n", b"TAC I\r\n", ScaleNotExecutableError),
        (b"TAC\r\n", b"TAC L\r\n", ScaleLogicalError),
        (b"TA 1 g\r\n", b"TA L\r\n", ScaleLogicalError),
    ],
)
def test_tare_refusals(command: bytes, reply: bytes, error: type[Exception]) -> None:
    actions = {
        b"T\r\n": lambda s: s.tare(),
        b"TAC\r\n": lambda s: s.clear_tare(),
        b"TA 1 g\r\n": lambda s: s.preset_tare(Decimal(1), "g"),
    }
    with pytest.raises(error):
        run([(command, reply)], actions[command])


def test_display_refused_with_l() -> None:
    with pytest.raises(ScaleLogicalError):
        run([(b'D "X"\r\n', b"D L\r\n")], lambda s: s.display("X"))


def test_identify_level_2_commands_and_i0_multiline() -> None:
    pairs = [
        (b"I1\r\n", b'I1 A "01" "2.20" "2.20" "1.00" "1.50"\r\n'),
        (b"I2\r\n", b'I2 A "XS204 220.0000 g"\r\n'),
        (b"I3\r\n", b'I3 A "2.10 10.28"\r\n'),
        (b"I4\r\n", b'I4 A "B123456789"\r\n'),
        (b"SI\r\n", b"S S     0.0000 g\r\n"),
        (b"I0\r\n", b'I0 B 0 "I0"\r\nI0 B 0 "S"\r\nI0 A 1 "TAC"\r\n'),
    ]

    def act(s: MtSicsScale) -> tuple[object, object]:
        return s.identify(), s.commands()

    identity, commands = run(pairs, act)
    assert identity.model == "XS204"
    assert identity.capacity_kg == Decimal("0.2200000")
    assert identity.serial == "B123456789"
    assert identity.software == "2.10 10.28"
    assert identity.level == "01"
    assert identity.d_kg == Decimal("1E-7")
    assert commands.commands == ((0, "I0"), (0, "S"), (1, "TAC"))


def test_identify_tolerates_unknown_identification_commands() -> None:
    pairs = [
        (b"I1\r\n", b"ES\r\n"),
        (b"I2\r\n", b"ES\r\n"),
        (b"I3\r\n", b"ES\r\n"),
        (b"I4\r\n", b'I4 A "42"\r\n'),
        (b"SI\r\n", b"S S      1.000 kg\r\n"),
    ]
    identity = run(pairs, lambda s: s.identify())
    assert identity.model is None
    assert identity.serial == "42"
    assert identity.d_kg == Decimal("0.001")


def test_sir_stream_then_reset() -> None:
    pairs = [
        (b"SIR\r\n", b"S D      1.00 g\r\nS D      2.00 g\r\nS S      3.00 g\r\n"),
        (b"@\r\n", b'I4 A "1"\r\n'),
    ]
    readings = run(pairs, lambda s: list(s.stream(3)))
    assert [r.value for r in readings] == [Decimal("1.00"), Decimal("2.00"), Decimal("3.00")]
    assert [r.stable for r in readings] == [False, False, True]


def test_stale_line_of_another_command_is_skipped() -> None:
    reading = run([DYNAMIC_FIRST, (b"S\r\n", b'I4 A "x"\r\nS S     5.00 g\r\n')], lambda s: s.read())
    assert reading.value == Decimal("5.00")


@pytest.mark.parametrize("reply", [b"\x15\x99garbage\r\n", b"ST,+00123.45  g\r\n", b"S Q 1 g\r\n", b"S S abc g\r\n"])
def test_garbage_or_foreign_protocol_is_a_typed_error(reply: bytes) -> None:
    with pytest.raises(ProtocolMismatchError) as caught:
        run([(b"SI\r\n", reply)], lambda s: s.read())
    assert "MT-SICS" in str(caught.value)


def test_partial_line_times_out_with_the_partial_bytes() -> None:
    with pytest.raises(TransportTimeout) as caught:
        run([(b"SI\r\n", b"S S    10")], lambda s: s.read(stable=False))
    assert caught.value.partial == b"S S    10"
    assert isinstance(caught.value, TimeoutError)


def test_stable_read_already_stable_needs_one_exchange() -> None:
    reading = run([(b"SI\r\n", b"S S     100.00 g\r\n")], lambda s: s.read())
    assert (reading.value, reading.stable) == (Decimal("100.00"), True)


def test_stable_read_on_a_silent_line_fails_within_the_url_timeout() -> None:
    """Issue 12 item 7: ``timeout=`` bounds a stable read on a silent device, not the 10 s stability timeout."""
    with ScriptedDevice([(b"SI\r\n", b"")]) as device:
        scale = MtSicsScale(open_transport(f"{device.url}?timeout=0.3"), stability_timeout=10)
        started = time.monotonic()
        with pytest.raises(TransportTimeout):
            scale.read()
        assert time.monotonic() - started < 3
        scale.close()


def test_silence_times_out() -> None:
    with pytest.raises(TransportTimeout):
        run([(b"SI\r\n", b"")], lambda s: s.read(stable=False))
