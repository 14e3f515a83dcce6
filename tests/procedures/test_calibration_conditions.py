"""Conditions typed in at the start and end of a guided calibration: CIPM-2007 air density, buoyancy case, U.

The instrument and weights are the demo's class I balance (Max 220 g, e = 1 mg, d = 0.1 mg) with its E2 set used
by certificate (``hengqi.server.web.demo``); the balance is simulated with a span error, eccentricity and a seeded
scatter of one d now and then (seed 20261207).
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from hengqi.errors import InputError
from hengqi.metrology.air_density import AirConditions, moist_air_density
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.mpe import mpe
from hengqi.procedures.calibration import DEFAULT_CONDITION_UNCERTAINTIES, calibration_plan, normalise
from hengqi.procedures.simulate import Simulation, VirtualBalance, simulate
from hengqi.procedures.steps import ReadConditions
from hengqi.records.calibration import calibrate, parse_calibration_record

D = Decimal
SEED = 20261207
DEMO_WEIGHTS = (  # id, nominal, certificate correction, U (k = 2): the demo's E2 set
    ("E2-200g", "200 g", "0.06 mg", "0.1 mg"),
    ("E2-100g", "100 g", "-0.1 mg", "0.05 mg"),
    ("E2-50g", "50 g", "0.02 mg", "0.03 mg"),
    ("E2-20g", "20 g", "-0.01 mg", "0.025 mg"),
    ("E2-20g*", "20 g", "0.01 mg", "0.025 mg"),
    ("E2-10g", "10 g", "0.005 mg", "0.02 mg"),
)
ECCENTRICITY = {"centre": D(0), "front-left": D("1e-6"), "front-right": D("-2e-6"), "back-right": D("1e-6")}
SPEC = InstrumentSpecification.create(accuracy_class="I", max="220 g", e="1 mg")


def _header() -> dict[str, Any]:
    return {
        "date": "2026-12-07",
        "operator": "C. Technician",
        "instrument": {"id": "SIM-BAL-0001", "max": "220 g", "d": "0.1 mg", "e": "1 mg", "class": "I"},
        "weights": [
            {"id": i, "class": "E2", "nominal": n, "certificate": {"correction": c, "U": u, "k": 2}}
            for i, n, c, u in DEMO_WEIGHTS
        ],
    }


def _run(conditions: tuple[str | None, ...]) -> Simulation:
    scatter = random.Random(SEED)

    def error(load: Decimal, position: str) -> Decimal:
        noise = D(scatter.choice((-1, 0, 0, 1))) * D("0.0000001")  # +-0.1 mg (one d) now and then
        return load * (D("0.000002") + ECCENTRICITY.get(position, D("-1e-6"))) + noise

    balance = VirtualBalance(D("0.0000001"), error=error, conditions=conditions)
    return simulate(calibration_plan(normalise({"record": _header()})), balance.respond)


def test_conditions_are_asked_at_the_start_and_the_end() -> None:
    simulation = _run(("20.3; 1008.2; 45", "20.6 °C; 1007.9 hPa; 44 %"))
    asked = [step for step in simulation.steps(ReadConditions) if isinstance(step, ReadConditions)]
    assert [step.moment for step in asked] == ["start", "end"]
    environment = simulation.product.record["environment"]
    assert environment["temperature_start"] == 20.3
    assert environment["temperature_end"] == 20.6
    assert environment["pressure"] == 1008.2
    assert environment["pressure_end"] == 1007.9
    assert environment["relative_humidity"] == 45.0
    assert environment["relative_humidity_end"] == 44.0
    for name, value in DEFAULT_CONDITION_UNCERTAINTIES.items():
        assert environment[name] == value
    assert simulation.product.record["buoyancy"] == {"method": "auto"}


def test_with_conditions_entered_u_is_below_the_mpe_at_every_load() -> None:
    simulation = _run(("20.3; 1008.2; 45", "20.6; 1007.9; 44"))
    result = calibrate(parse_calibration_record(dict(simulation.product.record)))
    expected_rho = moist_air_density(AirConditions(20.45, 100805.0, relative_humidity=44.5))
    assert result.environment.air_density_kg_m3 == pytest.approx(expected_rho, rel=1e-12)
    assert result.environment.u_air_density_kg_m3 is not None
    assert 0 < result.environment.u_air_density_kg_m3 < 0.002
    assert len(result.points) == 5
    for point in result.points:
        limit = mpe(point.load_kg, SPEC)
        assert D(repr(point.U_kg)) < limit, (point.load_kg, point.U_kg, limit)
        buoyancy = next(c for c in point.budget if c.name == "buoyancy")
        assert "measured" in buoyancy.description
    at_200 = next(p for p in result.points if p.load_kg == D("0.22"))
    assert at_200.U_kg < 0.5e-6  # 0.5 mg


def test_without_conditions_the_worst_case_buoyancy_dominates() -> None:
    """The symptom of the issue: no conditions, U above the MPE (R 111 worst case, air density not measured)."""
    simulation = _run((None, None))
    assert "environment" not in simulation.product.record
    result = calibrate(parse_calibration_record(dict(simulation.product.record)))
    top = result.points[-1]
    assert D(repr(top.U_kg)) > mpe(top.load_kg, SPEC)
    buoyancy = next(c for c in top.budget if c.name == "buoyancy")
    assert "not measured" in buoyancy.description


def test_conditions_given_only_at_the_end_are_used_as_the_values() -> None:
    simulation = _run((None, "21; 1001; 50"))
    environment = simulation.product.record["environment"]
    assert environment["temperature_start"] == 21.0
    assert "temperature_end" not in environment
    result = calibrate(parse_calibration_record(dict(simulation.product.record)))
    assert result.environment.air_density_kg_m3 == pytest.approx(
        moist_air_density(AirConditions(21.0, 100100.0, relative_humidity=50.0))
    )


def test_a_run_stored_before_the_conditions_steps_replays_without_them() -> None:
    """Parameters stored by an earlier hengqi have no ``conditions`` option: the plan they replay is unchanged."""
    stored = normalise({"record": _header()})
    assert stored["options"]["conditions"] is True  # every new run asks
    old = {**stored, "options": {k: v for k, v in stored["options"].items() if k != "conditions"}}
    balance = VirtualBalance(D("0.0000001"))
    simulation = simulate(calibration_plan(old), balance.respond)
    assert not simulation.steps(ReadConditions)
    off = normalise({"record": _header(), "options": {"conditions": False}})
    assert not simulate(calibration_plan(off), VirtualBalance(D("0.0000001")).respond).steps(ReadConditions)
    with pytest.raises(InputError) as caught:
        normalise({"record": _header(), "options": {"conditions": "yes"}})
    assert caught.value.path == "options.conditions"
