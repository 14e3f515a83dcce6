"""End to end: full guided runs against the in-process simulator over loopback TCP (MT-SICS), through the runner.

The simulated instrument (:mod:`hengqi.instruments.simulator`) is reached through a real socket with the real
driver (:func:`hengqi.instruments.probe.open_scale`); a scripted operator puts the loads the run asks for on the
simulator and finds change points by adding small weights while watching the indication, as a person would.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hengqi.instruments.probe import open_scale
from hengqi.instruments.scale import Scale
from hengqi.instruments.simulator import Imperfections, Simulator
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.procedures.channels import ScriptChannel
from hengqi.procedures.errors import ScaleStepError
from hengqi.procedures.runner import Runner, Runs
from hengqi.procedures.simulate import LoadTracker
from hengqi.procedures.state import JsonFileRunStore
from hengqi.procedures.steps import AddLoad, FindChangeover, PlaceLoad, ReadStable, RemoveLoad
from hengqi.records.calibration import calibrate, parse_calibration_record
from hengqi.records.verification import evaluate, parse_verification_record

from .conftest import calibration_header, verification_header

D = Decimal


class SimulatedOperator:
    """The operator's hands on the simulator and eyes on the instrument's indication."""

    def __init__(self, simulator: Simulator, scale: Scale) -> None:
        self.simulator = simulator
        self.scale = scale
        self.tracker = LoadTracker()

    def place(self, step: PlaceLoad | AddLoad | RemoveLoad) -> None:
        self.tracker.apply(step)
        self.simulator.place(self.tracker.load_kg, self.tracker.position)

    def indicate(self, load: Decimal) -> Decimal:
        self.simulator.place(load, self.tracker.position)
        value = self.scale.read(stable=True).value_kg
        assert value is not None
        return value

    def changeover(self, step: FindChangeover) -> Decimal:
        added = self.tracker.changeover(step, self.indicate)
        self.simulator.place(self.tracker.load_kg, self.tracker.position)
        return added

    def channel(self, **options: Any) -> ScriptChannel:
        return ScriptChannel(on_place=self.place, on_changeover=self.changeover, **options)


@pytest.fixture
def class_iii() -> Iterator[tuple[Simulator, Scale]]:
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    imperfections = Imperfections(span_error=0.0001, eccentricity=(0.0004, 0.0), settling_s=0.0)
    with (
        Simulator.start("mt-sics", spec=spec, unit="g", imperfections=imperfections, seed=7) as simulator,
        open_scale(simulator.url + "&timeout=0.5", stability_timeout=1.0) as scale,
    ):
        yield simulator, scale


def _verify(simulator: Simulator, scale: Scale, tmp_path: Path, **channel: Any) -> Any:
    operator = SimulatedOperator(simulator, scale)
    runner = Runner(Runs(JsonFileRunStore(tmp_path)), operator.channel(**channel), scale, by="inspector")
    return runner.start("verification", {"record": verification_header()}, run_id="verification-1")


def test_a_good_instrument_passes_a_full_verification(class_iii: tuple[Simulator, Scale], tmp_path: Path) -> None:
    simulator, scale = class_iii
    session = _verify(simulator, scale, tmp_path)
    assert session.status == "finished"
    assert session.product is not None
    record = parse_verification_record(dict(session.product.record))
    result = evaluate(record)
    assert result.verdict.value == "pass"
    assert session.product.passed is True
    assert {t.name for t in result.tests} >= {"weighing", "eccentricity", "repeatability", "discrimination"}
    # the span error of 1e-4 shows as about +1.5 g at 15 kg (to within the 0.1 e change-point step)
    top = next(p for p in result.test("weighing").points if p.load_kg == 15 and p.label == "increasing")
    assert top.corrected_error_kg is not None
    assert abs(top.corrected_error_kg - D("0.0015")) <= D("0.0005")
    sources = {r.source for r in session.state.results if r.kind == "read"}
    assert sources == {"instrument"}


def test_a_tampered_instrument_fails_and_the_record_says_why(
    class_iii: tuple[Simulator, Scale], tmp_path: Path
) -> None:
    simulator, scale = class_iii
    simulator.model.tamper_span(1.001)  # +15 g at 15 kg, MPE 7.5 g
    session = _verify(simulator, scale, tmp_path, decisions=["stop"])
    assert session.product is not None
    assert session.product.passed is False
    result = evaluate(parse_verification_record(dict(session.product.record)))
    assert result.verdict.value == "fail"
    assert any(f.test == "weighing" for f in result.failing_points)


def test_a_silent_instrument_interrupts_the_run_which_then_resumes(
    class_iii: tuple[Simulator, Scale], tmp_path: Path
) -> None:
    simulator, scale = class_iii
    operator = SimulatedOperator(simulator, scale)
    runs = Runs(JsonFileRunStore(tmp_path))
    calls = {"reads": 0}

    def on_place(step: PlaceLoad | AddLoad | RemoveLoad) -> None:
        operator.place(step)
        calls["reads"] += 1
        if calls["reads"] == 6:
            simulator.faults.silent = True  # the line goes quiet after the 6th loading step

    channel = ScriptChannel(on_place=on_place, on_changeover=operator.changeover)
    runner = Runner(runs, channel, scale)
    runs.start("verification", {"record": verification_header(), "options": {"tests": ["weighing"]}}, run_id="v")
    with pytest.raises(ScaleStepError) as caught:
        runner.run("v")
    waiting = runs.open("v").pending
    assert waiting is not None
    assert waiting.step_id == caught.value.step_id
    assert isinstance(waiting.step, ReadStable | FindChangeover)
    simulator.faults.clear()
    session = Runner(Runs(JsonFileRunStore(tmp_path)), channel, scale).run("v")  # a fresh runner, as after a restart
    assert session.status == "finished"
    assert session.product is not None
    assert session.product.passed is True


def test_a_full_calibration_against_the_simulator(tmp_path: Path) -> None:
    spec = InstrumentSpecification.create(accuracy_class="I", max="220 g", e="1 mg", d="0.1 mg")
    imperfections = Imperfections(span_error=2e-6, settling_s=0.0)
    with (
        Simulator.start("mt-sics", spec=spec, unit="g", imperfections=imperfections, seed=3) as simulator,
        open_scale(simulator.url + "&timeout=0.5") as scale,
    ):
        operator = SimulatedOperator(simulator, scale)
        runner = Runner(Runs(JsonFileRunStore(tmp_path)), operator.channel(), scale)
        session = runner.start("calibration", {"record": calibration_header()}, run_id="calibration-1")
    assert session.status == "finished"
    assert session.product is not None
    result = calibrate(parse_calibration_record(dict(session.product.record)))
    assert len(result.points) == 5
    for point in result.points:
        expected = point.load_kg * D("0.000002")  # the simulated span error
        assert abs(point.error_kg - expected) <= D("0.00000005") + D("1e-12")  # to within d/2
        assert 0 < point.U_kg < 0.00001
    assert [live.value_kg for live in session.live_results] == [p.error_kg for p in result.points]
