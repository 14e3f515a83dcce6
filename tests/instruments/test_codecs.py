"""Codec round-trips (Hypothesis) and decoding of the manual examples captured in protocols.md."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hengqi.instruments import aandd, mtsics, sbi, toledo
from hengqi.instruments.errors import FrameError

units = st.sampled_from(["g", "kg", "mg", "t", "lb"])


def decimal_text(max_digits: int) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        places = draw(st.integers(0, min(5, max_digits - 1)))
        digits = draw(st.integers(0, 10 ** (max_digits - 1) - 1))
        sign = draw(st.sampled_from(["", "-"]))
        value = Decimal(digits).scaleb(-places)
        return sign + f"{value:.{places}f}"

    return build()


@given(
    text=decimal_text(7), status=st.sampled_from(["S", "D"]), ident=st.sampled_from(["S", "SI", "T", "TI"]), unit=units
)
def test_mtsics_weight_round_trip(text: str, status: str, ident: str, unit: str) -> None:
    line = mtsics.format_weight(ident, status, text, unit)
    reply = mtsics.parse_weight(line + "\r\n")
    assert (reply.ident, reply.status, reply.value, reply.unit) == (ident, status, Decimal(text), unit)
    assert reply.stable == (status == "S")


@given(
    fields=st.lists(
        st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters='"'), max_size=12), max_size=4
    )
)
def test_mtsics_quoted_fields_round_trip(fields: list[str]) -> None:
    line = mtsics.format_reply("I2", "A", *fields)
    assert mtsics.parse_reply(line).fields == tuple(fields)


@given(
    name=st.sampled_from(sorted(mtsics.COMMANDS)),
    text=st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters='"'), max_size=10),
)
def test_mtsics_command_round_trip(name: str, text: str) -> None:
    encoded = mtsics.encode_command(name, mtsics.quote(text)) if name == "D" else mtsics.encode_command(name)
    assert encoded.endswith(b"\r\n")
    assert mtsics.decode_command(encoded) == (name, (text,) if name == "D" else ())


@pytest.mark.parametrize(
    ("line", "ident", "status"),
    [
        ("S S     100.00 g", "S", "S"),
        ("S I", "S", "I"),
        ("S +", "S", "+"),
        ("S -", "S", "-"),
        ("Z A", "Z", "A"),
        ("D L", "D", "L"),
        ("ES", "ES", ""),
        ("ET", "ET", ""),
        ("EL", "EL", ""),
    ],
)
def test_mtsics_manual_replies(line: str, ident: str, status: str) -> None:
    reply = mtsics.parse_reply(line)
    assert (reply.ident, reply.status) == (ident, status)


@pytest.mark.parametrize(
    "line", ["", "s s 1 g", "S", "S X 1 g", "ES 1", "S I 5 g", "S S 1", "S S 1e5000 g", "S S nan g", 'I0 "x"']
)
def test_mtsics_malformed(line: str) -> None:
    with pytest.raises(FrameError):
        mtsics.parse_weight(line)


def test_mtsics_command_list_requires_b_then_a() -> None:
    with pytest.raises(FrameError):
        mtsics.parse_command_list(['I0 A 0 "I0"', 'I0 B 0 "S"'])
    with pytest.raises(FrameError):
        mtsics.encode_command("s")
    with pytest.raises(FrameError):
        mtsics.quote('say "hi"')


@given(
    text=decimal_text(8).filter(lambda t: len(t.lstrip("-")) <= 9),
    unit=units,
    stable=st.booleans(),
    ident=st.sampled_from(["N", "G"]),
    width=st.sampled_from([16, 22]),
)
def test_sbi_output_round_trip(text: str, unit: str, stable: bool, ident: str, width: int) -> None:
    line = sbi.format_output(text, unit, stable=stable, ident=ident, width=width) + "\r\n"
    assert len(line) == width
    out = sbi.parse_output(line)
    assert out.kind == "weight"
    assert out.value == Decimal(text)
    assert out.stable == stable
    assert out.unit == (unit if stable else "")
    assert out.ident == (ident if width == 22 else "")


def test_sbi_22_character_example_positions_match_the_sartorius_client_slices() -> None:
    line = sbi.format_output("123.56", "g", stable=True) + "\r\n"
    assert line == "N     +   123.56 g  \r\n"
    assert len(line) == 22
    assert float(line[6:16].replace(" ", "")) == 123.56
    assert line[17:20].strip() == "g"


@given(st.lists(st.sampled_from(sorted(sbi.COMMANDS)), max_size=6), st.booleans())
def test_sbi_command_framing_round_trip(commands: list[str], crlf: bool) -> None:
    data = b"".join(sbi.encode_command(c) + (b"\r\n" if crlf else b"") for c in commands)
    found, rest, stray = sbi.split_commands(data)
    assert (found, rest, stray) == (commands, b"", b"")


def test_sbi_stray_bytes_are_reported() -> None:
    assert sbi.split_commands(b"xx\x1bP\x1b") == (["P"], b"\x1b", b"xx")
    with pytest.raises(FrameError):
        sbi.parse_output("+ abc")


@given(
    text=decimal_text(7).filter(lambda t: len(t.lstrip("-")) <= 8),
    header=st.sampled_from(["ST", "US", "QT"]),
    unit=st.sampled_from(["g", "kg", "PCS", "%"]),
)
def test_and_round_trip(text: str, header: str, unit: str) -> None:
    line = aandd.format_line(header, text, unit)
    assert len(line) == 15
    parsed = aandd.parse_line(line + "\r\n")
    assert (parsed.header, parsed.value, parsed.unit) == (header, Decimal(text), unit)


@pytest.mark.parametrize("line", ["ST+00123.45  g", "XX,+00123.45  g", "ST,+001A3.45  g", "ST,00123.45  g"])
def test_and_malformed(line: str) -> None:
    with pytest.raises(FrameError):
        aandd.parse_line(line)


@given(
    digits=st.integers(0, 999_999),
    tare=st.integers(0, 999_999),
    places=st.integers(0, 5),
    negative=st.booleans(),
    net=st.booleans(),
    motion=st.booleans(),
    out=st.booleans(),
    unit=st.sampled_from(["kg", "lb", "g", "t"]),
    increment=st.sampled_from([1, 2, 5]),
    checksum=st.booleans(),
)
def test_toledo_round_trip(  # noqa: PLR0917 - one parameter per Hypothesis strategy
    digits: int,
    tare: int,
    places: int,
    negative: bool,
    net: bool,
    motion: bool,
    out: bool,
    unit: str,
    increment: int,
    checksum: bool,
) -> None:
    value = Decimal(-digits if negative else digits).scaleb(-places)
    frame = toledo.ContinuousFrame(
        value, Decimal(tare).scaleb(-places), unit=unit, net=net, motion=motion, out_of_range=out, increment=increment
    )
    data = toledo.encode_frame(frame, with_checksum=checksum)
    assert len(data) == 17 + checksum
    assert sum(data) & 0x7F == 0 if checksum else True
    decoded = toledo.decode_frame(data)
    assert decoded.value == value
    assert decoded.tare == frame.tare
    assert (decoded.unit, decoded.net, decoded.motion, decoded.out_of_range, decoded.increment) == (
        unit,
        net,
        motion,
        out,
        increment,
    )


def test_toledo_malformed() -> None:
    good = toledo.encode_frame(toledo.ContinuousFrame(Decimal("1.0"), Decimal("0.0")))
    for bad in (good[:-1], b"\x03" + good[1:], good[:5] + b"x" + good[6:], good[:1] + b"\x00" + good[2:]):
        with pytest.raises(FrameError):
            toledo.decode_frame(bad)
    with pytest.raises(FrameError):
        toledo.encode_frame(toledo.ContinuousFrame(Decimal("1234567"), Decimal(0)))
