"""The guided calibration: loads made up from the weights, repeatability, eccentricity, E and U per point."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from hengqi.errors import InputError
from hengqi.procedures.calibration import POSITIONS, WeightPiece, calibration_plan, make_up, normalise
from hengqi.procedures.simulate import VirtualBalance, simulate
from hengqi.procedures.steps import PlaceLoad, ReadStable, ZeroScale
from hengqi.records.calibration import calibrate, load_calibration_record, parse_calibration_record

from .conftest import calibration_header

D = Decimal
D_KG = D("0.0000001")  # d = 0.1 mg


def _run(parameters: dict[str, Any], balance: VirtualBalance) -> Any:
    return simulate(calibration_plan(normalise(parameters)), balance.respond)


def test_loads_are_made_up_from_below_with_the_weights_available() -> None:
    pieces = [WeightPiece("W5", D(5)), WeightPiece("W2", D(2)), WeightPiece("W2", D(2)), WeightPiece("W1", D(1))]
    assert make_up(D(10), pieces) == (D(10), ["W5", {"id": "W2", "count": 2}, "W1"])
    assert make_up(D("8.5"), pieces) == (D(8), ["W5", "W2", "W1"])
    assert make_up(D("0.5"), pieces) == (D(0), [])


def test_a_calibration_records_every_test_and_evaluates() -> None:
    balance = VirtualBalance(D_KG, error=lambda load, position: load * D("0.000002"))  # +2 ppm span error
    simulation = _run({"record": calibration_header()}, balance)
    record = simulation.product.record
    assert [p["load"] for p in record["points"]] == ["40 g", "80 g", "130 g", "170 g", "220 g"]
    assert record["points"][-1]["weights"] == ["W200", "W20"]
    assert record["points"][1]["weights"] == ["W50", "W20", "W10"]
    assert record["repeatability"][0]["load"] == "110 g"  # 0.5 Max made up: 100 g + 10 g
    assert len(record["repeatability"][0]["readings"]) == 5  # below 100 kg: at least 5 loadings
    assert [p["position"] for p in record["eccentricity"]["positions"]] == list(POSITIONS)
    assert record["eccentricity"]["load"] == "70 g"  # Max/3 = 73.3 g made up from below
    result = calibrate(parse_calibration_record(dict(record)))
    for point in result.points:
        assert abs(point.error_kg - point.load_kg * D("0.000002")) <= D_KG / 2 + D("1e-12")
        assert point.U_kg > 0
    assert len(simulation.live) == 5
    last = simulation.live[-1]
    assert last.quantity == "E"
    assert last.limit_name == "U"
    assert last.passed is None
    assert last.value_kg == result.points[-1].error_kg
    assert simulation.product.passed is None
    assert len(simulation.product.summary) == 5


def test_every_point_reads_its_own_zero_first() -> None:
    simulation = _run({"record": calibration_header(), "options": {"eccentricity": False}}, VirtualBalance(D_KG))
    reads = [s for s in simulation.steps(ReadStable) if isinstance(s, ReadStable)]
    purposes = [step.purpose for step in reads if not step.purpose.startswith("repeatability")]
    assert purposes == ["no load", "at load"] * 5
    assert "eccentricity" not in simulation.product.record
    assert len(simulation.steps(ZeroScale)) == 2  # before the repeatability series and the test loads


def test_given_loads_must_be_made_up_exactly() -> None:
    parameters = {"record": calibration_header(), "options": {"loads": ["50 g", "100 g", "200 g"]}}
    simulation = _run(parameters, VirtualBalance(D_KG))
    assert [p["load"] for p in simulation.product.record["points"]] == ["50 g", "100 g", "200 g"]
    with pytest.raises(InputError, match="make up 70 g, not 75 g") as caught:
        normalise({"record": calibration_header(), "options": {"loads": ["75 g"]}})
    assert caught.value.path == "options.loads[0]"


def test_heavy_repeatability_loads_need_three_loadings() -> None:
    """cg-18 5.1 as quoted (SECONDARY): at least 3 loadings where the load is 100 kg or more."""
    header = calibration_header()
    header["instrument"] = {"id": "F-1", "max": "3000 kg", "d": "1 kg"}
    header["weights"] = [{"id": "M500", "class": "M1", "nominal": "500 kg", "quantity": 6}]
    parameters = {"record": header, "options": {"eccentricity_load": "1000 kg"}}
    simulation = _run(parameters, VirtualBalance(D(1)))
    assert simulation.product.record["repeatability"][0]["load"] == "1.5 t"
    assert len(simulation.product.record["repeatability"][0]["readings"]) == 3
    places = [s for s in simulation.steps(PlaceLoad) if isinstance(s, PlaceLoad)]
    assert places[-1].weights == ("6 x M500",)


def test_the_record_written_as_yaml_reads_back(tmp_path: Path) -> None:
    simulation = _run({"record": calibration_header()}, VirtualBalance(D_KG))
    path = tmp_path / "calibration.yaml"
    path.write_text(yaml.safe_dump(dict(simulation.product.record), allow_unicode=True), encoding="utf-8")
    result = calibrate(load_calibration_record(path))
    assert [p.error_kg for p in result.points] == [D(0)] * 5


@pytest.mark.parametrize(
    ("parameters", "path"),
    [
        ({"record": {**calibration_header(), "weights": []}}, "record.weights"),
        ({"record": {**calibration_header(), "points": []}}, "record.points"),
        ({"record": calibration_header(), "options": {"points": 0}}, "options.points"),
        ({"record": calibration_header(), "options": {"loads": "100 g"}}, "options.loads"),
        ({"record": calibration_header(), "options": {"repeatability_count": 1}}, "options.repeatability_count"),
        ({"record": calibration_header(), "options": {"repeatability_load": "5 g"}}, "options.repeatability_load"),
        ({"record": calibration_header(), "options": {"colour": "red"}}, "options.colour"),
        ({"record": calibration_header(), "extra": 1}, "extra"),
    ],
)
def test_bad_parameters_name_the_field(parameters: dict[str, Any], path: str) -> None:
    with pytest.raises(InputError) as caught:
        normalise(parameters)
    assert caught.value.path.startswith(path)


def test_a_partial_record_that_cannot_be_evaluated_does_not_stop_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from hengqi.errors import RecordError
    from hengqi.procedures import calibration

    def refuse(text: str) -> Any:
        raise RecordError("points", "simulated evaluation failure")

    monkeypatch.setattr(calibration, "_calibrate_text", refuse)
    simulation = _run({"record": calibration_header()}, VirtualBalance(D_KG))
    assert [live.quantity for live in simulation.live] == ["evaluation"] * 5
    assert "simulated evaluation failure" in simulation.live[0].message
    assert len(simulation.product.record["points"]) == 5  # everything measured is kept
    assert simulation.product.error is None  # the final record evaluates
