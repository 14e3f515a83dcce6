"""The guided verification: test points from the rules, change-point steps, live results, the record."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from hengqi.errors import InputError
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.mpe import mpe
from hengqi.procedures.simulate import VirtualBalance, simulate
from hengqi.procedures.steps import AddLoad, Decide, FindChangeover, PlaceLoad, ReadStable, RemoveLoad
from hengqi.procedures.verification import (
    QUARTER_POSITIONS,
    eccentricity_load,
    normalise,
    verification_plan,
    weighing_loads,
)
from hengqi.records.verification import evaluate, load_verification_record, parse_verification_record

from .conftest import verification_header

D = Decimal


def _run(parameters: dict[str, Any], balance: VirtualBalance) -> Any:
    return simulate(verification_plan(normalise(parameters)), balance.respond)


def test_weighing_loads_single_interval_class_iii() -> None:
    """Class III, e = 5 g: Table 6 edges at 500 e = 2.5 kg and 2 000 e = 10 kg (standards.md 1.2, DERIVED)."""
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    assert weighing_loads(spec, rules="oiml-r76") == (D("0.1"), D("2.5"), D("7.5"), D("10"), D("15"))


def test_weighing_loads_multi_interval_are_the_last_loads_before_each_mpe_change() -> None:
    """The UKWF multi-interval example as class III (standards.md 1.3): 0-6 kg/2 g, 6-15 kg/5 g, 15-30 kg/10 g."""
    spec = InstrumentSpecification.create(
        accuracy_class="III", kind="multi-interval", ranges=[("6 kg", "2 g"), ("15 kg", "5 g"), ("30 kg", "10 g")]
    )
    loads = weighing_loads(spec, rules="oiml-r76")
    assert loads == tuple(D(x) for x in ("0.04", "1", "4", "6", "10", "15", "20", "30"))
    step = D("0.001")
    for load in loads[1:-1]:
        if load == spec.max_kg / 2:
            continue
        assert mpe(load + step, spec) > mpe(load, spec), load  # the MPE changes right after each chosen load
    # and nowhere else between Min and Max on the e1 grid: every change point is chosen
    changes = {load for k in range(20, 15000) if mpe((load := D(k) * D("0.002")) + step, spec) != mpe(load, spec)}
    assert changes <= set(loads)


def test_weighing_loads_follow_the_rule_set_and_extra_loads() -> None:
    spec = InstrumentSpecification.create(accuracy_class="II", max="6200 g", e="0.1 g")
    loads = weighing_loads(spec, rules="oiml-r76", extra=(D("1"),))
    assert loads == (spec.min_kg, D("0.5"), D("1"), D("2"), D("3.1"), D("6.2"))  # 5 000 e and 20 000 e
    coarse = InstrumentSpecification.create(accuracy_class="IIII", max="1000 kg", e="1 kg")
    assert weighing_loads(coarse, rules="jjg539") == (D(10), D(50), D(200), D(500), D(1000))


def test_eccentricity_load_and_positions() -> None:
    """(Max + T)/3 up to 4 supports, (Max + T)/(n - 1) beyond (standards.md 1.4, CONFIRMED national texts)."""
    small = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    assert eccentricity_load(small, 4, D(0)) == D(5)
    assert eccentricity_load(small, 4, D(3)) == D(6)
    truck = InstrumentSpecification.create(accuracy_class="III", max="30000 kg", e="10 kg")
    assert eccentricity_load(truck, 8, D(0)) == D(4280)  # 4 285.7 rounded down within 20 e (NZ TS-007)
    fine = InstrumentSpecification.create(accuracy_class="I", max="220 g", e="1 mg", d="0.1 mg")
    assert eccentricity_load(fine, 4, D(0)) == D("0.073334")  # class I: no allowance found: up to a whole e


def test_a_perfect_instrument_passes_with_every_test_recorded() -> None:
    balance = VirtualBalance(D("0.005"))
    simulation = _run({"record": verification_header()}, balance)
    assert simulation.product.passed is True
    record = parse_verification_record(dict(simulation.product.record))
    assert evaluate(record).verdict.value == "pass"
    tests = simulation.product.record["tests"]
    assert set(tests) == {"weighing", "eccentricity", "repeatability", "discrimination"}
    assert [p["position"] for p in tests["eccentricity"]["points"]] == list(QUARTER_POSITIONS)
    assert [len(s["points"]) for s in tests["repeatability"]["series"]] == [10, 10]  # Max < 1 000 kg
    directions = [p["direction"] for p in tests["weighing"]["points"]]
    assert directions == ["increasing"] * 5 + ["decreasing"] * 4
    assert all("change_point" in p for p in tests["weighing"]["points"])  # d = e > 0.2 e
    # E0 near zero: 10 e = 50 g is not made up by the set (100 g ... 10 kg), its smallest weight 100 g = Min is
    # used instead (issue 11: "Place 50 g" named no weights)
    assert tests["weighing"]["zero"]["load"] == "100 g"
    assert tests["weighing"]["points"][4]["weights"] == ["W0", "W1"]  # 15 kg = 10 kg + 5 kg
    assert not simulation.steps(Decide)
    assert all(live.passed for live in simulation.live)


def test_the_rounding_trap_is_caught_by_change_point_steps() -> None:
    """standards.md 1.4 (DERIVED): at 5 000 g, I = 5 005 g with dL = 1 g gives E = +6.5 g > MPE 5 g."""
    balance = VirtualBalance(
        D("0.005"), error=lambda load, position: D("0.0066") if D("4.9") < load < D("5.1") else D(0)
    )
    parameters = {
        "record": verification_header(),
        "options": {"tests": ["weighing"], "extra_loads": ["5 kg"], "ask_on_failure": False},
    }
    simulation = _run(parameters, balance)
    assert simulation.product.passed is False
    point = next(p for p in simulation.product.record["tests"]["weighing"]["points"] if p["load"] == "5 kg")
    assert point["indication"] == "5.005 kg"  # naive I - L = +5 g would pass
    assert point["change_point"] == "1 g"
    failing = [live for live in simulation.live if live.passed is False]
    assert failing
    assert failing[0].value_kg == D("0.0065")
    assert failing[0].limit_kg == D("0.005")


def test_stopping_after_a_failure_keeps_what_was_measured() -> None:
    balance = VirtualBalance(D("0.005"), error=lambda load, position: load * D("0.002"), decisions=("stop",))
    simulation = _run({"record": verification_header()}, balance)
    assert simulation.product.passed is False
    assert len(simulation.steps(Decide)) == 1
    tests = simulation.product.record["tests"]
    assert set(tests) == {"weighing"}
    assert "Stopped by the operator" in simulation.product.record["notes"]
    assert evaluate(parse_verification_record(dict(simulation.product.record))).verdict.value == "fail"


def test_continuing_after_a_failure_asks_once() -> None:
    balance = VirtualBalance(D("0.005"), error=lambda load, position: load * D("0.002"), decisions=("continue",))
    simulation = _run({"record": verification_header()}, balance)
    assert len(simulation.steps(Decide)) == 1
    assert set(simulation.product.record["tests"]) == {"weighing", "eccentricity", "repeatability", "discrimination"}


def test_eccentricity_is_read_at_each_position_and_errors_by_position_fail() -> None:
    def error(load: Decimal, position: str) -> Decimal:
        return D("0.010") if position == "back-left" else D(0)

    parameters = {"record": verification_header(), "options": {"tests": ["eccentricity"], "ask_on_failure": False}}
    simulation = _run(parameters, VirtualBalance(D("0.005"), error=error))
    places = [step for step in simulation.steps(PlaceLoad) if isinstance(step, PlaceLoad) and step.load_kg == 5]
    assert [step.position for step in places] == list(QUARTER_POSITIONS)
    assert simulation.product.passed is False
    failing = [live for live in simulation.live if live.passed is False]
    assert [live.label for live in failing] == ["back-left"]


def test_many_supports_use_each_support() -> None:
    parameters = {
        "record": verification_header(supports=6),
        "options": {"tests": ["eccentricity"]},
    }
    simulation = _run(parameters, VirtualBalance(D("0.005")))
    points = simulation.product.record["tests"]["eccentricity"]["points"]
    assert [p["position"] for p in points] == [f"support {i}" for i in range(1, 7)]
    assert simulation.product.record["tests"]["eccentricity"]["load"] == "3 kg"  # 15 kg / (6 - 1)


def test_discrimination_adds_one_point_four_d_at_the_change_point() -> None:
    parameters = {"record": verification_header(), "options": {"tests": ["discrimination"]}}
    simulation = _run(parameters, VirtualBalance(D("0.005")))
    assert [step.extra_kg for step in simulation.steps(AddLoad) if isinstance(step, AddLoad)] == [D("0.0070")] * 3
    changeovers = [s for s in simulation.steps(FindChangeover) if isinstance(s, FindChangeover)]
    assert all(step.remove_one and step.step_kg == D("0.0005") for step in changeovers)
    points = simulation.product.record["tests"]["discrimination"]["points"]
    assert [p["load"] for p in points] == ["100 g", "7.5 kg", "15 kg"]
    assert simulation.product.passed is True


def test_an_instrument_that_does_not_respond_fails_discrimination() -> None:
    """A sticky indication: it does not move for the extra 1.4 d (LG-3.02 criterion, CONFIRMED)."""
    parameters = {"record": verification_header(), "options": {"tests": ["discrimination"]}}

    class Sticky(VirtualBalance):
        def respond(self, step: Any) -> Any:
            if isinstance(step, ReadStable) and "after" in step.purpose:
                return self.indicate(step.load_kg - D("0.007"))
            return super().respond(step)

    simulation = _run(parameters, Sticky(D("0.005")))
    assert simulation.product.passed is False


def test_no_rounding_elimination_with_an_auxiliary_indicating_device() -> None:
    header = {
        **verification_header(**{"class": "II", "max": "620 g", "e": "0.01 g", "d": "0.001 g"}),
        "reference_weights": [],
    }
    parameters = {"record": header, "options": {"tests": ["weighing"]}}
    simulation = _run(parameters, VirtualBalance(D("0.000001")))
    assert not simulation.steps(FindChangeover)
    assert "zero" not in simulation.product.record["tests"]["weighing"]
    assert simulation.product.passed is True


def test_in_service_limits_are_twice_the_initial_ones() -> None:
    def error(load: Decimal, position: str) -> Decimal:
        return load * D("0.0006")  # +6 g at 10 kg, +9 g at 15 kg: above 5 g / 7.5 g, within 10 g / 15 g

    initial = _run(
        {"record": verification_header(), "options": {"tests": ["weighing"], "ask_on_failure": False}},
        VirtualBalance(D("0.005"), error=error),
    )
    header = {**verification_header(), "stage": "in-service"}
    in_service = _run({"record": header, "options": {"tests": ["weighing"]}}, VirtualBalance(D("0.005"), error=error))
    assert initial.product.passed is False
    assert in_service.product.passed is True


def test_the_record_written_as_yaml_reads_back_with_the_same_verdict(tmp_path: Path) -> None:
    balance = VirtualBalance(D("0.005"), error=lambda load, position: load * D("0.0002"))
    simulation = _run({"record": verification_header()}, balance)
    path = tmp_path / "record.yaml"
    path.write_text(yaml.safe_dump(dict(simulation.product.record), allow_unicode=True), encoding="utf-8")
    result = evaluate(load_verification_record(path))
    assert (result.verdict.value == "pass") is simulation.product.passed


@pytest.mark.parametrize(
    ("parameters", "path"),
    [
        ({"record": {**verification_header(), "operator": ""}}, "record.operator"),
        ({"record": {**verification_header(), "rules": "hb44"}}, "record.rules"),
        ({"record": verification_header(supports=None)}, "record.instrument.specification.supports"),
        ({"record": verification_header(), "options": {"tests": ["tare"]}}, "options.tests[0]"),
        ({"record": verification_header(), "options": {"extra_loads": ["20 kg"]}}, "options.extra_loads[0]"),
        ({"record": verification_header(), "options": {"speed": 2}}, "options.speed"),
        ({"record": verification_header(), "options": {"weighings": 1}}, "options.weighings"),
        ({"record": {**verification_header(), "tests": {}}}, "record.tests"),
        ({"recrod": {}}, "record"),
        (
            {
                "record": {
                    **verification_header(),
                    "rules": "jjg539",
                    "instrument": {"id": "X", "specification": {"class": "II", "max": "6200 g", "e": "0.1 g"}},
                },
                "options": {"tests": ["weighing"]},
            },
            "record.rules",
        ),
    ],
)
def test_bad_parameters_name_the_field(parameters: dict[str, Any], path: str) -> None:
    with pytest.raises(InputError) as caught:
        normalise(parameters)
    assert caught.value.path.startswith(path)


def test_a_bad_instrument_specification_is_refused_before_the_run() -> None:
    with pytest.raises(InputError, match="exceeds 10000") as caught:
        normalise({"record": verification_header(max="100 kg")})  # n = 20 000 > 10 000 for class III
    assert caught.value.path == "record.instrument.specification.max"


def test_a_multi_interval_instrument_uses_the_interval_of_each_partial_range() -> None:
    """UKWF example as class III (standards.md 1.3): change points per range; dL within each range's d."""
    header = verification_header(
        **{
            "kind": "multi-interval",
            "ranges": [{"max": "6 kg", "e": "2 g"}, {"max": "15 kg", "e": "5 g"}, {"max": "30 kg", "e": "10 g"}],
        }
    )
    header["instrument"]["specification"].pop("max")
    header["instrument"]["specification"].pop("e")
    header["reference_weights"] += [  # 40 g (Min) and 30 kg (Max) made up from the set
        {"id": "V1", "class": "M1", "nominal": "20 g"},
        {"id": "V2", "class": "M1", "nominal": "20 g"},
        {"id": "V3", "class": "M1", "nominal": "10 kg"},
    ]
    spec = InstrumentSpecification.create(
        accuracy_class="III", kind="multi-interval", ranges=[("6 kg", "2 g"), ("15 kg", "5 g"), ("30 kg", "10 g")]
    )
    parameters = {"record": header, "options": {"tests": ["weighing", "discrimination"]}}
    simulation = _run(parameters, VirtualBalance(spec.d_at, error=lambda load, position: load * D("0.0001")))
    assert simulation.product.passed is True
    changeovers = {s.load_kg: s.interval_kg for s in simulation.steps(FindChangeover) if isinstance(s, FindChangeover)}
    assert changeovers[D("4")] == D("0.002")
    assert changeovers[D("10")] == D("0.005")
    assert changeovers[D("30")] == D("0.010")
    loads = [p["load"] for p in simulation.product.record["tests"]["weighing"]["points"]]
    assert loads[:8] == ["40 g", "1 kg", "4 kg", "6 kg", "10 kg", "15 kg", "20 kg", "30 kg"]


def test_zero_setting_accuracy_on_request() -> None:
    """A zero set 2 g off (class III, e = 5 g) exceeds 0.25 e = 1.25 g (SECONDARY limit)."""
    parameters = {"record": verification_header(), "options": {"tests": ["zero-setting"]}}
    good = _run(parameters, VirtualBalance(D("0.005")))
    assert good.product.passed is True
    assert good.product.record["tests"]["zero_setting"]["points"][0]["change_point"] == "2.5 g"

    class OffZero(VirtualBalance):
        def zero(self) -> None:
            super().zero()
            self.zero_offset += D("0.002")

    bad = _run(parameters, OffZero(D("0.005")))
    assert bad.product.passed is False
    assert [live.quantity for live in bad.live] == ["zero deviation"]


def test_a_final_record_that_cannot_be_evaluated_is_kept_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    from hengqi.errors import RecordError
    from hengqi.procedures import verification

    def refuse(record: Any) -> Any:
        raise RecordError("tests", "simulated evaluation failure")

    monkeypatch.setattr(verification, "evaluate", refuse)
    monkeypatch.setattr(verification, "_evaluate_text", refuse)
    parameters = {"record": verification_header(), "options": {"tests": ["discrimination"]}}
    simulation = _run(parameters, VirtualBalance(D("0.005")))
    assert simulation.product.passed is None
    assert simulation.product.error == "tests: simulated evaluation failure"
    assert len(simulation.product.record["tests"]["discrimination"]["points"]) == 3


def test_multiple_range_readings_carry_the_range_in_use() -> None:
    """The range goes up with the load and stays up on the way down until the load returns to zero (R 76-1:2006
    3.2 / 4.10 as cited); the balance here indicates in the range in use, as a real one would."""
    ranges = [("30", "0.01"), ("60", "0.02"), ("150", "0.05")]
    spec = InstrumentSpecification.create(
        accuracy_class="III", ranges=[(Decimal(m), Decimal(e)) for m, e in ranges], kind="multiple-range"
    )
    in_use = [0]

    balance = VirtualBalance(lambda _indication: spec.ranges[in_use[0]].e_kg)
    changeover_intervals: list[Decimal] = []

    def respond(step: Any) -> Any:
        if isinstance(step, PlaceLoad):
            in_use[0] = max(in_use[0], spec.range_at(step.load_kg)[0])
        if isinstance(step, RemoveLoad):
            in_use[0] = 0
        if isinstance(step, FindChangeover):
            changeover_intervals.append(step.interval_kg)
        return balance.respond(step)

    header = verification_header()
    header["instrument"]["specification"] = {
        "class": "III",
        "supports": 4,
        "kind": "multiple-range",
        "ranges": [{"max": f"{m} kg", "e": f"{Decimal(e) * 1000} g"} for m, e in ranges],
    }
    small = ["5 kg", "2 kg", "2 kg", "1 kg", "500 g", "200 g", "200 g", "100 g"]
    header["reference_weights"] = (
        [{"id": f"W{i}", "class": "M1", "nominal": "20 kg"} for i in range(8)]
        + [{"id": "X", "class": "M1", "nominal": "10 kg"}]
        + [{"id": f"S{i}", "class": "M1", "nominal": n} for i, n in enumerate(small)]
    )
    parameters = {"record": header, "options": {"tests": ["weighing"], "rounding_elimination": "yes"}}
    simulation = simulate(verification_plan(normalise(parameters)), respond)
    points = simulation.product.record["tests"]["weighing"]["points"]
    by_direction = {(p["load"], p["direction"]): p["range"] for p in points}
    assert by_direction[("20 kg", "increasing")] == 1
    assert by_direction[("40 kg", "increasing")] == 2
    assert by_direction[("150 kg", "increasing")] == 3
    assert by_direction[("40 kg", "decreasing")] == 3  # still in range 3 on the way down
    assert by_direction[("20 kg", "decreasing")] == 3
    assert Decimal("0.05") in changeover_intervals  # the change point found with e3 on the way down
    assert simulation.product.passed is True


def test_every_guided_test_of_a_multiple_range_instrument_records_its_range() -> None:
    """Eccentricity, repeatability and discrimination loads are placed from zero: each records the smallest range
    covering its load, and its change points are found with the e of that range (R 76-1:2006 3.2 / 4.10 as cited)."""
    ranges = [("30", "0.01"), ("60", "0.02"), ("150", "0.05")]
    spec = InstrumentSpecification.create(
        accuracy_class="III", ranges=[(Decimal(m), Decimal(e)) for m, e in ranges], kind="multiple-range"
    )
    in_use = [0]
    balance = VirtualBalance(lambda _indication: spec.ranges[in_use[0]].e_kg)
    intervals: list[tuple[Decimal, Decimal]] = []

    def respond(step: Any) -> Any:
        if isinstance(step, PlaceLoad):
            in_use[0] = max(in_use[0], spec.range_at(step.load_kg)[0])
        if isinstance(step, RemoveLoad):
            in_use[0] = 0
        if isinstance(step, FindChangeover):
            intervals.append((step.load_kg, step.interval_kg))
        return balance.respond(step)

    header = verification_header()
    header["instrument"]["specification"] = {
        "class": "III",
        "supports": 4,
        "kind": "multiple-range",
        "ranges": [{"max": f"{m} kg", "e": f"{Decimal(e) * 1000} g"} for m, e in ranges],
    }
    header["reference_weights"] = [{"id": f"W{i}", "class": "M1", "nominal": "20 kg"} for i in range(8)] + [
        {"id": "X", "class": "M1", "nominal": "10 kg"},
        {"id": "Y", "class": "M1", "nominal": "5 kg"},
        {"id": "Z", "class": "M1", "nominal": "200 g"},
    ]
    tests = ["eccentricity", "repeatability", "discrimination"]
    parameters = {"record": header, "options": {"tests": tests, "rounding_elimination": "yes"}}
    simulation = simulate(verification_plan(normalise(parameters)), respond)
    recorded = simulation.product.record["tests"]
    assert recorded["eccentricity"]["range"] == 2  # 50 kg
    assert [s["range"] for s in recorded["repeatability"]["series"]] == [3, 3]  # 75 kg and 150 kg
    assert [p["range"] for p in recorded["discrimination"]["points"]] == [1, 3, 3]  # Min, 75 kg, 150 kg
    assert (Decimal(50), Decimal("0.02")) in intervals  # eccentricity change points with e2
    assert (Decimal(75), Decimal("0.05")) in intervals  # repeatability and discrimination at 75 kg with e3
    assert simulation.product.passed is True


def test_a_set_that_cannot_make_up_a_load_is_refused_naming_what_is_missing() -> None:
    """The loads are built from the chosen set's weights; where one cannot be, the run is refused before it
    starts, naming the load, the test that needs it and why (not a "Place 50 g" step naming no weights)."""
    header = verification_header()
    header["reference_weights"] = [{"id": f"M{i}", "class": "M1", "nominal": "5 kg"} for i in range(3)]
    with pytest.raises(InputError) as caught:
        normalise({"record": header, "options": {"tests": ["weighing", "eccentricity"]}})
    assert caught.value.path == "record.reference_weights"
    reason = caught.value.reason
    assert "100 g (weighing: the smallest weight is 5 kg)" in reason
    assert "2.5 kg (weighing" in reason
    assert "7.5 kg (weighing: no combination of the weights adds up to it exactly)" in reason
    assert "50 g (weighing E0, eccentricity E0: the smallest weight is 5 kg)" in reason  # E0 at 10 e
    assert "5 kg (eccentricity" not in reason  # 5 kg is made up by one weight
    header["reference_weights"] = [{"id": "M", "class": "M1", "nominal": "10 kg"}]
    with pytest.raises(
        InputError, match=r"15 kg \(weighing: the weights add up to only 10 kg and cannot make up the 5 kg on the "
    ):
        normalise({"record": header, "options": {"tests": ["weighing"]}})
