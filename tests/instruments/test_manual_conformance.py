"""Issue 12: the instrument layer against the vendors' manuals, over real sockets and pseudo-terminals.

Manuals (model, page) are named in each test; layouts are exact (no tolerance).
"""

from __future__ import annotations

import importlib
import math
import os
import socket
import time
import tty
from collections.abc import Iterator
from decimal import Decimal

import pytest

from hengqi.cli.app import cli
from hengqi.instruments import sbi
from hengqi.instruments.drivers import AndScale, SbiScale
from hengqi.instruments.errors import (
    LineSettingsError,
    ProtocolMismatchError,
    ScaleOverloadError,
    ScaleUnderloadError,
    TransportError,
    TransportTimeout,
)
from hengqi.instruments.probe import FRAMINGS, probe
from hengqi.instruments.scale import Scale
from hengqi.instruments.simulator import Imperfections, Simulator
from hengqi.instruments.transport import open_transport
from hengqi.instruments.units import AND_UNITS, SBI_UNITS, unit_code
from hengqi.metrology.classes import InstrumentSpecification

from . import manual_clients
from .transcript import Pair, ScriptedDevice

# the package re-exports the function probe(), which hides the module of the same name
probe_module = importlib.import_module("hengqi.instruments.probe")

STILL = Imperfections(settling_s=0.0, stability_timeout_s=1.0)


def run(kind: type[Scale], pairs: list[Pair], action, query: str = ""):  # type: ignore[no-untyped-def]
    with ScriptedDevice(pairs) as device:
        scale = kind(open_transport(f"{device.url}?timeout=0.5{query}"), stability_timeout=0.5)
        try:
            return action(scale)
        finally:
            scale.close()
            device.close()
            device.assert_done()


@pytest.fixture
def silent_pty() -> Iterator[str]:
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        yield os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


# -- 1. line settings a port refuses: one line, exit 2, never a traceback ---------------------------------------
def test_every_probe_framing_opens_or_is_refused_with_a_typed_error(silent_pty: str) -> None:
    """termios.error is not an OSError: it must come back as LineSettingsError (a TransportError), never raw."""
    for bytesize, parity, stopbits in FRAMINGS:
        for baud in probe_module.BAUD_RATES:
            url = f"serial://{silent_pty}?baud={baud}&bytesize={bytesize}&parity={parity}&stopbits={stopbits}"
            outcome: BaseException | None = None
            try:
                open_transport(url).close()
            except Exception as err:  # the test: nothing but LineSettingsError escapes
                outcome = err
            if outcome is not None:
                assert isinstance(outcome, LineSettingsError), repr(outcome)
                assert isinstance(outcome, TransportError)
                assert f"{bytesize}{parity}{stopbits}" in str(outcome)


def test_probe_on_a_silent_pty_answers_one_line(
    silent_pty: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(probe_module, "BAUD_RATES", (9600,))  # every framing, one baud rate: the test stays short
    with pytest.raises(ProtocolMismatchError) as caught:
        probe(f"serial://{silent_pty}")
    assert "no MT-SICS, A&D, SBI or Toledo continuous instrument answered" in str(caught.value)
    assert cli(["scale", "probe", f"serial://{silent_pty}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_read_with_seven_bit_even_parity_on_a_pty_is_one_line(
    silent_pty: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"serial://{silent_pty}?protocol=and&bytesize=7&parity=E&timeout=0.3"
    started = time.monotonic()
    assert cli(["scale", "read", url, "--stability-timeout", "10"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert time.monotonic() - started < 5  # the URL's timeout, not the 10 s stability timeout


# -- 2. unit codes, each from its manual ---------------------------------------------------------------------------
AND_CODES = [
    # code, symbol, size in kg or None; A&D EK-AEP series manual p. 28 (data format, 12 units incl. "t" tola),
    # EK-i series manual 9-2 (11 units, the same codes without "t")
    ("g", "g", Decimal("0.001")),
    ("PC", "pcs", None),
    ("%", "%", None),
    ("oz", "oz", Decimal("0.028349523125")),
    ("lb", "lb", Decimal("0.45359237")),
    ("ozt", "ozt", Decimal("0.0311034768")),
    ("ct", "ct", Decimal("0.0002")),
    ("mom", "mom", Decimal("0.00375")),
    ("dwt", "dwt", Decimal("0.00155517384")),
    ("GN", "gr", Decimal("0.00006479891")),
    ("tl", "tael", None),
    ("t", "tola", Decimal("0.0116638038")),
]


@pytest.mark.parametrize(("code", "symbol", "kg"), AND_CODES)
def test_and_unit_codes_ek_aep_manual_p28(code: str, symbol: str, kg: Decimal | None) -> None:
    line = f"ST,+0001.234{code:>3}\r\n".encode()
    reading = run(AndScale, [(b"Q\r\n", line)], lambda s: s.read())
    assert reading.unit == symbol
    assert reading.value_kg == (None if kg is None else Decimal("1.234") * kg)


def test_and_t_is_the_tola_not_the_tonne() -> None:
    """A&D EK-AEP manual p. 28 lists "t" as tola: 1.234 t is 14.39 g, not 1234 kg."""
    reading = run(AndScale, [(b"Q\r\n", b"ST,+0001.234  t\r\n")], lambda s: s.read())
    assert reading.value_kg is not None
    assert reading.value_kg < Decimal("0.015")


SBI_CODES = [
    # Sartorius FB series manual p. 66 "Unit symbols"; MC1 manual p. 111 ("gr" grains)
    ("g", "g", Decimal("0.001")),
    ("kg", "kg", Decimal("1")),
    ("ct", "ct", Decimal("0.0002")),
    ("lb", "lb", Decimal("0.45359237")),
    ("oz", "oz", Decimal("0.028349523125")),
    ("ozt", "ozt", Decimal("0.0311034768")),
    ("tlh", "tael-hk", None),
    ("tls", "tael-sg", None),
    ("tlt", "tael-tw", Decimal("0.0375")),
    ("tlc", "tael-cn", Decimal("0.05")),
    ("GN", "gr", Decimal("0.00006479891")),
    ("gr", "gr", Decimal("0.00006479891")),
    ("dwt", "dwt", Decimal("0.00155517384")),
    ("mg", "mg", Decimal("0.000001")),
    ("mom", "mom", Decimal("0.00375")),
    ("K", "ct-at", None),
    ("tol", "tola", Decimal("0.0116638038")),
    ("bat", "baht", None),
    ("MS", "mesghal", None),
    ("%", "%", None),
    ("pcs", "pcs", None),
]


@pytest.mark.parametrize(("code", "symbol", "kg"), SBI_CODES)
def test_sbi_unit_codes_fb_manual_p66(code: str, symbol: str, kg: Decimal | None) -> None:
    line = sbi.format_output("12.5", code, stable=True) + "\r\n"
    reading = run(SbiScale, [(b"\x1bP", line.encode())], lambda s: s.read())
    assert reading.unit == symbol
    assert reading.value_kg == (None if kg is None else Decimal("12.5") * kg)


def test_unit_tables_are_unambiguous() -> None:
    """Two codes may name one unit, but one hengqi symbol never names two sizes."""
    seen: dict[str, Decimal | None] = {}
    for table in (AND_UNITS, SBI_UNITS):
        for unit in table.values():
            assert seen.setdefault(unit.symbol, unit.kg) == unit.kg
    assert unit_code("t").name == "tonne"
    assert unit_code("t", AND_UNITS).name == "tola"


# -- 3. SBI over- and underload ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"      H       \r\n", ScaleOverloadError),  # Combics 3 manual p. 94, 16 characters, H in column 7
        (b"      L       \r\n", ScaleUnderloadError),
        (b"      HH      \r\n", ScaleOverloadError),  # checkweighing
        (b"      LL      \r\n", ScaleUnderloadError),
        (b"      High    \r\n", ScaleOverloadError),  # Quintix manual p. 87 "Special Outputs"
        (b"      Low     \r\n", ScaleUnderloadError),
        (b"Stat        H       \r\n", ScaleOverloadError),  # Master series manual p. 5-5, columns 13-14
        (b"Stat        High    \r\n", ScaleOverloadError),  # Entris II "Stat ... High"
        (b"Stat        L       \r\n", ScaleUnderloadError),
    ],
)
def test_sbi_overload_and_underload_are_named(line: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        run(SbiScale, [(b"\x1bP", line)], lambda s: s.read())


def test_sbi_overload_exits_1_from_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    with Simulator.start("sbi", imperfections=STILL, sbi_width=16) as sim:
        sim.place("300 g")
        assert cli(["scale", "read", sim.url]) == 1
    assert "overload" in capsys.readouterr().err.lower()


def test_sbi_moving_reading_keeps_the_known_unit() -> None:
    pairs = [(b"\x1bP", b"+  100.0000 g  \r\n"), (b"\x1bP", b"+  100.0012    \r\n")]

    def act(scale: Scale) -> tuple[str, str, Decimal | None]:
        scale.read()
        moving = scale.read(stable=False)
        return moving.unit, str(moving.stable), moving.value_kg

    assert run(SbiScale, pairs, act) == ("g", "False", Decimal("0.1000012"))


# -- 4. A&D acknowledgements (FX-i manual 15-2; FZ-i manual 18.2) ---------------------------------------------------
def test_and_without_ak_zeroes_when_the_balance_answers() -> None:
    """erCd 0: no AK. The driver waits for none and checks the balance still answers."""
    pairs = [(b"Z\r\n", b""), (b"Q\r\n", b"ST,+0000.000  g\r\n")]
    run(AndScale, pairs, lambda s: s.zero(), query="&ack=none")
    run(AndScale, pairs, lambda s: s.zero())  # adaptive: the silence after Z is not an error


def test_and_without_ak_on_a_dead_line_is_a_timeout() -> None:
    with pytest.raises(TransportTimeout):
        run(AndScale, [(b"Z\r\n", b""), (b"Q\r\n", b"")], lambda s: s.zero(), query="&ack=none")


def test_and_ak_without_crlf() -> None:
    pairs = [(b"T\r\n", b"\x06"), (b"Q\r\n", b"ST,+0000.000  g\r\n")]

    def act(scale: Scale) -> Decimal:
        scale.tare()
        return scale.read().value

    assert run(AndScale, pairs, act) == Decimal("0.000")


def test_and_ak_twice_does_not_spoil_the_next_read() -> None:
    """R/Z/T acknowledged on receipt and on completion (FZ-i manual 18.2): the second AK is not a reading."""
    pairs = [(b"Z\r\n", b"\x06\r\n"), (b"Q\r\n", b"\x06\r\nST,+0000.000  g\r\n")]

    def act(scale: Scale) -> Decimal:
        scale.zero()
        return scale.read().value

    assert run(AndScale, pairs, act) == Decimal("0.000")
    run(AndScale, [(b"Z\r\n", b"\x06\r\n\x06\r\n")], lambda s: s.zero(), query="&ack=twice")


def test_and_ack_option_is_validated(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["scale", "zero", "tcp://127.0.0.1:1?protocol=and&ack=maybe"]) == 2
    assert "ack='maybe'" in capsys.readouterr().err


# -- 5. the simulator's SBI lines follow the manuals' layouts -------------------------------------------------------
def _ask(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(data)
        reply = b""
        while not reply.endswith(b"\r\n"):
            reply += conn.recv(64)
        return reply


def test_simulator_sbi_22_character_layout_gc803s_p57_master_series_p5_5() -> None:
    with Simulator.start("sbi", imperfections=STILL) as sim:
        sim.place("100 g")
        line = _ask(sim.port, b"\x1bP").decode()
        assert len(line) == 22
        assert line[6] == "+"
        assert line[7] == " "
        assert line[8:16] == "100.0000"
        assert line[16] == " "
        assert line[17:20] == "g  "
        sim.place("300 g")
        status = _ask(sim.port, b"\x1bP").decode()
        assert len(status) == 22
        assert status[:4] == "Stat"
        assert status[12:14] == "H "
        assert not status[4:12].strip()


def test_simulator_sbi_16_character_layout_combics3_p94() -> None:
    with Simulator.start("sbi", imperfections=STILL, sbi_width=16) as sim:
        sim.place("100 g")
        assert _ask(sim.port, b"\x1bP") == b"+ 100.0000 g  \r\n"
        sim.place("300 g")
        assert _ask(sim.port, b"\x1bP") == b"      H       \r\n"


def test_sbi_value_field_keeps_column_8_a_space() -> None:
    """9-character values do not fit the 8-character field of columns 3-10 (GC803S manual p. 57)."""
    with pytest.raises(ValueError, match="too wide"):
        sbi.format_output("1234.5678", "g", stable=True)


# -- 6. the simulator forgets finished connections; no signed zero -------------------------------------------------
def test_simulator_threads_do_not_pile_up() -> None:
    with Simulator.start("mt-sics", imperfections=STILL) as sim:
        for _ in range(100):
            with socket.create_connection(("127.0.0.1", sim.port), timeout=2) as conn:
                conn.sendall(b"SI\r\n")
                conn.recv(64)
        deadline = time.monotonic() + 5
        while len(sim._threads) > 1 and time.monotonic() < deadline:  # only the accept loop stays
            time.sleep(0.05)
        assert len(sim._threads) == 1


@pytest.mark.parametrize("protocol", ["mt-sics", "sbi", "and"])
def test_no_negative_zero_after_tare(protocol: str) -> None:
    with Simulator.start(protocol, imperfections=STILL) as sim:
        sim.place("100 g")
        scale = probe_module.open_scale(sim.url)
        try:
            scale.tare()
            time.sleep(0.05)
            reading = scale.read()
        finally:
            scale.close()
    assert "-0.0" not in reading.raw
    assert reading.value == 0
    assert math.copysign(1.0, reading.as_json()["value"]) == 1.0


# -- 7. the scale commands start without the calibration stack ------------------------------------------------------
def test_scale_command_does_not_import_scipy_or_the_server() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from hengqi.cli.app import cli; cli(['scale', '--help']); "
        "heavy = {'scipy', 'fastapi', 'sqlalchemy', 'reportlab', 'asyncua'}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")


def test_lazy_command_hints_name_the_right_modules() -> None:
    from hengqi.cli.app import COMMAND_HINTS

    for name, module in COMMAND_HINTS.items():
        commands = importlib.import_module(f"hengqi.cli.{module}").COMMANDS
        assert name in {command.name for command in commands}


# -- 8. independent readers written from the manuals read the simulator ---------------------------------------------
def test_manual_a_and_d_reader_reads_the_simulator() -> None:
    """A&D EK-i manual 9-2 layout, decoded without hengqi's codec."""
    with Simulator.start("and", imperfections=STILL) as sim:
        sim.place("123.4567 g")
        with socket.create_connection(("127.0.0.1", sim.port), timeout=2) as conn:
            reading = manual_clients.and_query(conn)
            sim.place("300 g")
            over = manual_clients.and_query(conn)
    assert (reading.header, reading.value, reading.unit) == ("ST", Decimal("123.4567"), "g")
    assert over.header == "OL"


@pytest.mark.parametrize("checksum", [False, True])
def test_manual_toledo_reader_reads_the_simulator(checksum: bool) -> None:
    """WILDCAT manual pp. 6-4/6-5 frame and status bits, decoded without hengqi's codec."""
    spec = InstrumentSpecification.create(accuracy_class="III", max="60 kg", e="20 g")
    with Simulator.start("toledo-continuous", spec=spec, unit="kg", imperfections=STILL, checksum=checksum) as sim:
        sim.place("12.34 kg")
        time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", sim.port), timeout=2) as conn:
            frame = manual_clients.toledo_frame(conn, checksum=checksum)
            sim.place("70 kg")
            time.sleep(0.2)
            for _ in range(10):  # frames already in flight still show the old load
                over = manual_clients.toledo_frame(conn, checksum=checksum)
                if over.out_of_range:
                    break
    assert (frame.weight, frame.unit, frame.net, frame.motion, frame.increment) == (
        Decimal("12.34"),
        "kg",
        False,
        False,
        2,
    )
    assert over.out_of_range
