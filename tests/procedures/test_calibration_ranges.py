"""The guided calibration of a multiple-range instrument (Max 6 / 15 kg, e = d = 2 / 5 g, class III): every reading
records the range in use; on decreasing loads the range stays up until the load returns to zero (OIML R 76-1:2006
3.2 / 4.10 as cited), so those points are evaluated with d2 and judged with the MPE of range 2."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest

from hengqi.certificates.conformity import assess_conformity
from hengqi.errors import InputError
from hengqi.procedures.calibration import calibration_plan, normalise
from hengqi.procedures.instructions import describe, step_as_json
from hengqi.procedures.simulate import Simulation, VirtualBalance, simulate
from hengqi.procedures.steps import PlaceLoad, ReadStable, RemoveLoad
from hengqi.records.calibration import calibrate, parse_calibration_record

from .conftest import calibration_header

D = Decimal
RANGES = ((D(6), D("0.002")), (D(15), D("0.005")))


def _header() -> dict[str, Any]:
    return {
        "date": "2026-11-25",
        "operator": "C. Technician",
        "instrument": {
            "id": "S-2",
            "max": "15 kg",
            "d": "2 g",
            "e": "2 g",
            "class": "III",
            "kind": "multiple-range",
            "ranges": [{"max": "6 kg", "d": "2 g", "e": "2 g"}, {"max": "15 kg", "d": "5 g", "e": "5 g"}],
        },
        "weights": [
            {"id": "W5", "class": "M1", "nominal": "5 kg", "quantity": 3},
            {"id": "W2", "class": "M1", "nominal": "2 kg"},
        ],
    }


def _run(options: dict[str, Any]) -> tuple[Simulation, list[int]]:
    """Drive the plan with a balance that indicates in the range in use, as a real one would: up when the load
    passes Max1, back to range 1 only when the receptor is emptied.  Returns the ranges seen at each reading."""
    in_use = [0]
    balance = VirtualBalance(lambda _indication: RANGES[in_use[0]][1], error=lambda load, position: load * D("0.0002"))
    seen: list[int] = []

    def respond(step: Any) -> Any:
        if isinstance(step, PlaceLoad):
            in_use[0] = max(in_use[0], 0 if step.load_kg <= RANGES[0][0] else 1)
        if isinstance(step, RemoveLoad):
            in_use[0] = 0
        if isinstance(step, ReadStable):
            seen.append(in_use[0] + 1)
        return balance.respond(step)

    parameters = {"record": _header(), "options": {"loads": ["2 kg", "5 kg", "10 kg", "15 kg"], **options}}
    return simulate(calibration_plan(normalise(parameters)), respond), seen


def test_decreasing_loads_are_recorded_and_evaluated_in_range_2() -> None:
    simulation, seen = _run({"decreasing": True, "conditions": False})
    record = simulation.product.record
    points = record["points"]
    assert [(p["load"], p["range"]) for p in points] == [
        ("2 kg", 1), ("5 kg", 1), ("10 kg", 2), ("15 kg", 2), ("10 kg", 2), ("5 kg", 2), ("2 kg", 2)
    ]  # fmt: skip
    assert {p["no_load"] for p in points} == {"0 kg"}  # one no-load reading before the first load
    assert record["repeatability"][0]["load"] == "7 kg"  # Max/2 made up from below
    assert record["repeatability"][0]["range"] == 2
    assert record["eccentricity"]["range"] == 1  # Max/3 = 5 kg from zero
    reads = [s for s in simulation.steps(ReadStable) if isinstance(s, ReadStable)]
    assert [s.range_in_use for s in reads] == seen  # every step shows the range the balance indicates in
    down = [s for s in reads if s.purpose == "at load, decreasing"]
    assert [s.range_in_use for s in down] == [2, 2, 2]
    assert step_as_json(down[-1])["range_in_use"] == 2
    assert "range 2" in describe(down[-1])[0]
    assert "称量范围 2" in describe(down[-1])[1]
    # the indications are those of range 2 (5 g steps), and the evaluation rounds them with d2
    assert points[5]["indication"] == "5 kg"  # 5.001 kg (+200 ppm) shown to 5 g
    assert points[1]["indication"] == "5.002 kg"  # the same load on the way up, to 2 g
    result = calibrate(parse_calibration_record(dict(record)))
    at_5kg = {p.range_in_use: p for p in result.points if p.load_kg == D(5)}
    rounding = at_5kg[2].contribution("rounding-load")
    assert rounding is not None
    # EURAMET cg-18 v4.0 7.1.1 (SECONDARY): dL / (2 sqrt 3) with dL = d2 = 5 g; tolerance 1e-12 relative
    assert rounding.u_kg == pytest.approx(0.005 / (2 * math.sqrt(3)), rel=1e-12)
    assessment = assess_conformity(result, stage="initial", rules="oiml-r76")
    assert assessment is not None
    assert {p.status for p in assessment.points} <= {"pass", "conditionalPass"}  # no false failure
    mpe_of = {(p.load_kg, q.range_in_use): p.mpe_kg for p, q in zip(assessment.points, result.points, strict=True)}
    assert mpe_of[(D(5), 2)] == D("0.005")  # R 76-1 Table 6: 1000 e2, 1 e
    assert mpe_of[(D(5), 1)] == D("0.003")  # 2500 e1, 1.5 e
    assert len(simulation.live) == 7
    assert simulation.product.error is None


def test_each_load_from_zero_is_in_the_smallest_range_covering_it() -> None:
    simulation, seen = _run({"conditions": False})
    points = simulation.product.record["points"]
    assert [p["range"] for p in points] == [1, 1, 2, 2]
    reads = [s for s in simulation.steps(ReadStable) if isinstance(s, ReadStable)]
    assert [s.range_in_use for s in reads] == seen
    assert {s.range_in_use for s in reads if s.purpose == "no load"} == {1}


def test_single_range_steps_and_options_keep_their_form() -> None:
    """Stored runs of single-range instruments replay: their steps and options are what they were."""
    simulation = simulate(
        calibration_plan(normalise({"record": calibration_header(), "options": {"eccentricity": False}})),
        VirtualBalance(D("0.0000001")).respond,
    )
    reads = [s for s in simulation.steps(ReadStable) if isinstance(s, ReadStable)]
    assert all(s.range_in_use is None and "range_in_use" not in step_as_json(s) for s in reads)
    assert all("range" not in p for p in simulation.product.record["points"])
    assert "decreasing" not in normalise({"record": calibration_header()})["options"]
    with pytest.raises(InputError) as caught:
        normalise({"record": calibration_header(), "options": {"decreasing": "yes"}})
    assert caught.value.path == "options.decreasing"
