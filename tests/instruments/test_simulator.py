"""The simulator: physical model (with a manual clock and seeds), protocols over loopback TCP and a pty, faults,
the control channel."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from hengqi.errors import InputError
from hengqi.instruments.errors import (
    ProtocolMismatchError,
    ScaleOverloadError,
    ScaleUnstableError,
    TransportTimeout,
)
from hengqi.instruments.probe import open_scale
from hengqi.instruments.simulator import ControlClient, Imperfections, ManualClock, Simulator, WeighingModel
from hengqi.metrology.classes import InstrumentSpecification

ANALYTICAL = InstrumentSpecification.create(accuracy_class="I", max="220 g", e="1 mg", d="0.1 mg")
RETAIL = InstrumentSpecification.create(
    accuracy_class="III", kind="multi-interval", ranges=[("6 kg", "2 g"), ("15 kg", "5 g")]
)


def model(spec: InstrumentSpecification = ANALYTICAL, unit: str = "g", seed: int = 7, **imperfections: object):
    clock = ManualClock()
    imp = Imperfections(**{"settling_s": 1.0, **imperfections})  # type: ignore[arg-type]
    return WeighingModel(spec, unit=unit, imperfections=imp, clock=clock, seed=seed), clock


def test_perfect_instrument_reads_the_load_rounded_to_d() -> None:
    m, clock = model()
    m.place("123.45678 g")
    clock.advance(2)
    ind = m.indication()
    assert ind.text == "123.4568"
    assert ind.stable
    assert not ind.overload
    assert ind.gross_kg == Decimal("0.1234568")


def test_settling_gives_dynamic_readings_first() -> None:
    m, clock = model()
    m.place("100 g")
    values = []
    for _ in range(5):
        ind = m.indication()
        values.append((ind.value, ind.stable))
        clock.advance(0.15)
    assert not any(stable for _, stable in values)
    assert len({v for v, _ in values}) > 1
    assert m.time_until_stable() == pytest.approx(0.25)
    clock.advance(0.3)
    assert m.indication().stable
    assert m.indication().value == Decimal("100.0000")


def test_overload_above_max_plus_9e() -> None:
    """Directive 2014/31/EU Annex I, 9 (R 76-1): nothing indicated above Max + 9 e = 220.009 g."""
    m, clock = model()
    m.place("220.009 g")
    clock.advance(2)
    assert not m.indication().overload
    m.place("220.0101 g")
    clock.advance(2)
    assert m.indication().overload


def test_multi_interval_d_changes_at_the_partial_range_boundary() -> None:
    m, clock = model(RETAIL, unit="kg")
    m.place("5.9987 kg")
    clock.advance(2)
    assert m.indication().text == "5.998"
    assert m.indication().d_kg == Decimal("0.002")
    m.place("6.0037 kg")
    clock.advance(2)
    assert m.indication().text == "6.005"
    assert m.indication().d_kg == Decimal("0.005")


def test_repeatability_is_seeded() -> None:
    def series(seed: int) -> list[Decimal]:
        m, clock = model(seed=seed, repeatability_kg=2e-7)
        out = []
        for _ in range(6):
            m.place("100 g")
            clock.advance(2)
            out.append(m.indication().value)
            m.remove()
        return out

    assert series(3) == series(3)
    assert series(3) != series(4)
    assert len(set(series(3))) > 1


def test_eccentricity_hysteresis_linearity_span() -> None:
    m, clock = model(eccentricity=(0.0, 2e-5))
    m.place("100 g", "back")
    clock.advance(2)
    assert m.indication().value == Decimal("100.0010")  # 100 g * 2e-5 * 0.5 = 1 mg
    m.place("100 g", "front")
    clock.advance(2)
    assert m.indication().value == Decimal("99.9990")
    m, clock = model(hysteresis_kg=1e-6, linearity_kg=2e-6, span_error=1e-6)
    m.place("110 g")
    clock.advance(2)
    up = m.indication().value
    assert up == Decimal("110.0021")  # 110 g * 1e-6 + 2 mg at Max/2 = 2.11 mg -> d = 0.1 mg
    m.place("220 g")
    m.place("110 g")
    clock.advance(2)
    assert m.indication().value - up == Decimal("0.0010")


def test_drift_temperature_creep_and_tampered_span() -> None:
    m, clock = model(zero_drift_kg_per_h=1e-6, temperature_span_per_k=1e-6, creep=1e-5, creep_tau_s=10)
    m.place("100 g")
    clock.advance(3600)
    assert m.indication().value == Decimal("100.0020")  # drift 1 mg + creep 1 mg
    m.set_temperature(30)
    assert m.indication().value == Decimal("100.0030")  # + 100 g * 10 K * 1e-6
    m.tamper_span(1.001)
    assert m.indication().value > Decimal("100.1")


def test_zero_and_tare_rules() -> None:
    m, clock = model()
    m.place("3 g")
    assert m.zero() == "unstable"
    clock.advance(2)
    assert m.zero() == "ok"
    assert m.indication().value == 0
    m.place("10 g")
    clock.advance(2)
    assert m.zero() == "+"  # 7 g above the zero reference > 2 % of Max = 4.4 g
    assert m.tare() == "ok"
    ind = m.indication()
    assert ind.net
    assert ind.value == 0
    assert ind.tare_text == "7.0000"
    m.clear_tare()
    assert m.indication().value == Decimal("7.0000")
    with pytest.raises(InputError):
        m.place("1 g", "upstairs")


def test_simulator_refuses_non_loopback() -> None:
    with pytest.raises(InputError, match="loopback"):
        Simulator(model()[0], "mt-sics", host="0.0.0.0")


@pytest.mark.parametrize("protocol", ["mt-sics", "sbi", "and"])
def test_every_protocol_over_tcp_and_pty(protocol: str) -> None:
    with Simulator.start(protocol, pty=True) as sim:
        sim.place("100 g")
        assert sim.pty_url is not None
        with open_scale(sim.pty_url, stability_timeout=3) as scale:
            reading = scale.read()
            assert (reading.value, reading.unit, reading.stable) == (Decimal("100.0000"), "g", True)
        with open_scale(sim.url, stability_timeout=3) as scale:
            assert scale.read().value == Decimal("100.0000")
            scale.tare()
            time.sleep(0.05)
            assert scale.read().value == 0
            sim.remove()
            time.sleep(0.25)
            scale.zero()
            time.sleep(0.05)
            assert scale.read().value == 0
            sim.place("230 g")
            with pytest.raises(ScaleOverloadError):
                scale.read()


def test_toledo_continuous_over_tcp_with_checksum() -> None:
    spec = InstrumentSpecification.create(accuracy_class="III", max="60 t", e="20 kg")
    with Simulator.start("toledo-continuous", spec=spec, unit="kg", checksum=True, pty=True) as sim:
        sim.place("12340 kg")
        time.sleep(0.1)  # a frame computed before the load was placed may still be in flight (20 frames/s)
        assert sim.pty_url is not None
        for url in (sim.pty_url, sim.url):
            with open_scale(url) as scale:
                reading = scale.read()
                assert (reading.value, reading.unit, reading.stable) == (Decimal("12340"), "kg", True)
                assert scale.identify().d_kg == Decimal("20")
        with open_scale(sim.url) as scale:
            scale.tare()
            time.sleep(0.15)
            assert scale.read().net is True
            assert scale.read().value == 0


def test_mt_sics_unstable_timeout() -> None:
    imp = Imperfections(settling_s=60, stability_timeout_s=0.2)
    with Simulator.start("mt-sics", imperfections=imp) as sim, open_scale(sim.url) as scale:
        sim.place("10 g")
        with pytest.raises(ScaleUnstableError):
            scale.read()
        assert not scale.read(stable=False).stable


def test_manual_clock_makes_the_served_instrument_deterministic() -> None:
    clock = ManualClock()
    imp = Imperfections(settling_s=5, repeatability_kg=1e-7, stability_timeout_s=10)
    with Simulator.start("mt-sics", clock=clock, imperfections=imp, seed=11) as sim, open_scale(sim.url) as scale:
        sim.place("50 g")
        assert not scale.read(stable=False).stable
        first = scale.read()  # the simulator waits on the manual clock: no real time passes
        assert first.stable
        assert clock.now() == pytest.approx(5.0)


def test_faults_garbage_partial_silence_delay_disconnect_span() -> None:
    with Simulator.start("mt-sics", control=True) as sim:
        control = ControlClient(sim.control_url or "")
        assert control.send("PLACE 100 g").startswith("OK")
        time.sleep(0.25)
        with open_scale(sim.url + "&timeout=0.3") as scale:
            assert control.send("FAULT GARBAGE 5") == "OK fault garbage"
            with pytest.raises(ProtocolMismatchError):
                scale.read()
            assert scale.read().value == Decimal("100.0000")
            control.send("FAULT PARTIAL")
            with pytest.raises(TransportTimeout) as caught:
                scale.read(stable=False)
            assert caught.value.partial.startswith(b"S S")
            control.send("FAULT SILENCE ON")
            with pytest.raises(TransportTimeout):
                scale.read(stable=False)
            control.send("FAULT SILENCE OFF")
            control.send("FAULT DELAY 0.5")
            with pytest.raises(TransportTimeout):
                scale.read(stable=False)
            time.sleep(0.6)
            scale.reconnect()
            control.send("FAULT CLEAR")
            assert control.send("FAULT DISCONNECT") == "OK fault disconnect"
            time.sleep(0.2)
            assert scale.read(stable=False).value == Decimal("100.0000")  # reconnected on demand
            control.send("FAULT SPAN 1.001")
            assert scale.read().value == Decimal("100.1000")


def test_control_channel_commands() -> None:
    clock = ManualClock()
    with Simulator.start("sbi", control=True, clock=clock) as sim:
        control = ControlClient(sim.control_url or "")
        assert control.send("PLACE 20 g back-left") == "OK placed 0.020 kg at back-left"
        assert control.send("READ") == "OK 0.0000 g dynamic gross"  # the indication starts from where it was
        assert control.send("ADVANCE 1") == "OK"
        assert control.send("READ") == "OK 20.0000 g stable gross"
        assert control.send("TARE") == "OK"
        assert control.send("READ") == "OK 0.0000 g stable net"
        assert control.send("CLEARTARE") == "OK"
        assert control.send("TEMP 25") == "OK 25.0 degC"
        assert control.send("ZERO").startswith("ERR zero refused")
        assert control.send("PLACE 1 parsec").startswith("ERR load")
        assert control.send("JUMP").startswith("ERR unknown command")
        assert control.send("FAULT BANANA").startswith("ERR unknown fault")
        assert "protocol=sbi" in control.send("INFO")
        assert control.send("REMOVE") == "OK removed"
