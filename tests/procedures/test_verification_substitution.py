"""Guided substitution of standard weights in the verification (OIML R 76-1:2006 3.7.3, SECONDARY; issue 11).

A 60 t class III truck scale (e = 20 kg) verified with 20 t or 12 t of M1 weights: the share rule (1/2 Max, 1/3 Max
with a repeatability error <= 0.3 e, 1/5 Max with <= 0.2 e; SECONDARY, see hengqi.metrology.r76.substitution) is
checked with the repeatability measured in the run, at its exact boundaries.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hengqi.errors import InputError
from hengqi.metrology.r76.substitution import check_substitution, standard_share, standard_share_limit
from hengqi.procedures.common import parse_load
from hengqi.procedures.simulate import VirtualBalance, simulate
from hengqi.procedures.steps import (
    Answer,
    FindChangeover,
    OperatorStep,
    PlaceLoad,
    ReadStable,
    RemoveLoad,
    Substitute,
)
from hengqi.procedures.verification import normalise, verification_plan
from hengqi.records.verification import evaluate, parse_verification_record

D = Decimal
E_KG = D(20)
EXCESS = D(20)  # each substitute is one e heavier than the weights it replaces


def truck_header(tonnes: int, small: tuple[str, ...] = ("500 kg", "200 kg", "200 kg", "100 kg")) -> dict[str, Any]:
    """Class III, Max 60 t, e = 20 kg, 4 supports; M1 weights: (tonnes - 1) x 1 t + 500 + 200 + 200 + 100 kg."""
    nominals = [*(["1000 kg"] * (tonnes - 1)), *small]
    return {
        "instrument": {
            "id": "TS-60",
            "make": "Acme",
            "specification": {"class": "III", "max": "60 t", "e": "20 kg", "supports": 4},
        },
        "reference_weights": [{"id": f"T{i:02d}", "class": "M1", "nominal": n} for i, n in enumerate(nominals)],
        "operator": "A. Inspector",
        "date": "2026-12-07",
        "stage": "initial",
        "rules": "oiml-r76",
    }


class Operator:
    """A careful operator on a perfect :class:`VirtualBalance` whose substitutes are each :data:`EXCESS` heavier
    than the weights they replace; ``check_dl`` answers the change points of the substitution check.  The same
    substitute material is put back where a place step names it ("substitute 40 t ... on the receptor")."""

    def __init__(self, check_dl: tuple[str, ...] = ()) -> None:
        self.balance = VirtualBalance(E_KG)
        self.check_dl = [D(v) for v in check_dl]
        self.purpose = ""
        self.established: list[Decimal] = []  # the nominal level of each substitute made so far
        self.on = 0  # how many of them are on the receptor

    def respond(self, step: OperatorStep) -> Answer:
        if isinstance(step, ReadStable):
            self.purpose = step.purpose
        if isinstance(step, FindChangeover) and self.purpose.startswith("substitution check") and self.check_dl:
            self.balance.respond(step)
            return self.check_dl.pop(0)
        answer = self.balance.respond(step)
        if isinstance(step, Substitute):
            if step.load_kg not in self.established:
                self.established.append(step.load_kg)
            self.on = self.established.index(step.load_kg) + 1
            self.balance.tracker.load_kg += EXCESS * self.on
        elif isinstance(step, PlaceLoad):
            named = step.weights[0].split() if step.weights else []
            level = parse_load(" ".join(named[1:3]), "level") if named[:1] == ["substitute"] else D(0)
            self.on = sum(1 for made in self.established if made <= level)
            self.balance.tracker.load_kg += EXCESS * self.on
        elif isinstance(step, RemoveLoad):
            self.on = 0
        return answer


def _run(tonnes: int, operator: Operator, tests: tuple[str, ...] = ("weighing",), **options: Any) -> Any:
    parameters = normalise({"record": truck_header(tonnes), "options": {"tests": list(tests), **options}})
    return simulate(verification_plan(parameters), operator.respond)


def test_the_share_rule_at_its_exact_boundaries() -> None:
    """1/2, 1/3 and 1/5 Max exactly, and 0.3 e / 0.2 e exactly (inclusive), in Decimal."""
    assert standard_share(D(30000), D(60000)) == (1, 2)
    assert standard_share(D(29999), D(60000)) == (1, 3)
    assert standard_share(D(20000), D(60000)) == (1, 3)
    assert standard_share(D(19999), D(60000)) == (1, 5)
    assert standard_share(D(12000), D(60000)) == (1, 5)
    assert standard_share(D("11999.999"), D(60000)) is None
    assert standard_share_limit(D(30000), D(60000), E_KG) is None
    assert standard_share_limit(D(20000), D(60000), E_KG) == D(6)
    assert standard_share_limit(D(12000), D(60000), E_KG) == D(4)
    assert check_substitution(D(20000), D(60000), repeatability_error_kg=D(6), e_kg=E_KG).allowed
    assert not check_substitution(D(20000), D(60000), repeatability_error_kg=D("6.001"), e_kg=E_KG).allowed
    assert check_substitution(D(12000), D(60000), repeatability_error_kg=D(4), e_kg=E_KG).allowed
    assert not check_substitution(D(12000), D(60000), repeatability_error_kg=D("4.001"), e_kg=E_KG).allowed
    assert check_substitution(D(30000), D(60000), repeatability_error_kg=D(100), e_kg=E_KG).allowed
    with pytest.raises(InputError, match="1/5 Max"):
        check_substitution(D(11999), D(60000), repeatability_error_kg=D(0), e_kg=E_KG)


def test_a_60_t_scale_is_verified_with_20_t_of_weights_by_substitution() -> None:
    simulation = _run(20, Operator(check_dl=("10", "10", "4")))  # repeatability error 6 kg = 0.3 e: allowed
    product = simulation.product
    assert product.error is None
    assert product.passed is True
    points = product.record["tests"]["weighing"]["points"]
    by_load = {(p["load"], p["direction"]): p for p in points}
    top = by_load[("60 t", "increasing")]
    assert top["substitute"] == "40 t"
    assert top["substitute_correction"] == "40 kg"  # two substitutes, each 20 kg over the weights they replaced
    assert len(top["weights"]) == 23  # the whole set (19 x 1 t + 500 + 200 + 200 + 100 kg) on the substitutes
    assert by_load[("40 t", "increasing")]["substitute"] == "20 t"
    assert by_load[("30 t", "decreasing")]["substitute"] == "20 t"  # the upper substitute came off again
    assert by_load[("30 t", "decreasing")]["substitute_correction"] == "20 kg"
    assert "substitute" not in by_load[("10 t", "decreasing")]
    assert "0.3 e" in product.record["notes"]
    assert "3.7.3" in product.record["notes"]
    # the reference value includes the substitutes' excess: every error is zero on this perfect balance
    result = evaluate(parse_verification_record(dict(product.record)))
    weighing = next(t for t in result.tests if t.name == "weighing")
    assert all(point.passed for point in weighing.points)
    substitutes = [m.step for m in simulation.messages if isinstance(m.step, Substitute)]
    assert [(s.load_kg, s.step) for s in substitutes] == [(D(20000), 1), (D(40000), 2)]


def test_substitution_is_refused_when_the_repeatability_measured_is_above_0_3_e() -> None:
    simulation = _run(20, Operator(check_dl=("10", "10", "3.99")))  # 6.01 kg > 0.3 e
    product = simulation.product
    assert product.error is not None
    assert "more than 0.3 e" in product.error
    assert "3.7.3" in product.error
    assert "30 t (1/2 Max)" in product.error
    assert not any(isinstance(m.step, Substitute) for m in simulation.messages)
    assert "weighing" not in product.record["tests"]  # nothing was weighed on substitutes


def test_a_fifth_of_max_needs_0_2_e_exactly() -> None:
    allowed = _run(12, Operator(check_dl=("10", "6", "10")))  # 4 kg = 0.2 e
    assert allowed.product.error is None
    top = next(p for p in allowed.product.record["tests"]["weighing"]["points"] if p["load"] == "60 t")
    assert top["substitute"] == "48 t"
    assert top["substitute_correction"] == "80 kg"
    refused = _run(12, Operator(check_dl=("10", "5.99", "10")))  # 4.01 kg > 0.2 e
    assert refused.product.error is not None
    assert "more than 0.2 e" in refused.product.error


def test_weights_of_at_least_half_max_need_no_repeatability_check() -> None:
    simulation = _run(30, Operator())
    assert simulation.product.passed is True
    assert not any(
        isinstance(m.step, ReadStable) and m.step.purpose.startswith("substitution check") for m in simulation.messages
    )


def test_weights_below_a_fifth_of_max_are_refused_at_the_start() -> None:
    with pytest.raises(InputError, match=r"less than 1/5 Max \(12 t\)") as caught:
        normalise({"record": truck_header(11), "options": {"tests": ["weighing"]}})
    assert caught.value.path == "record.reference_weights"


ALL_TESTS = ("weighing", "eccentricity", "repeatability", "discrimination")


def _points(simulation: Any, test: str) -> list[dict[str, Any]]:
    record = simulation.product.record["tests"][test]
    return list(record["series"] if test == "repeatability" else record["points"])


def test_every_test_above_the_weights_uses_the_substitutes_of_the_weighing_test() -> None:
    """20 t of weights (1/3 Max): repeatability at 30 t and 60 t and discrimination at 30 t and 60 t on the
    substitutes established in the weighing test (no new substitution), each naming its substitute and correction;
    every error is zero on the perfect balance (the corrections enter the reference values)."""
    simulation = _run(20, Operator(check_dl=("10", "10", "4")), ALL_TESTS)
    product = simulation.product
    assert product.error is None
    assert product.passed is True
    substitutes = [m.step for m in simulation.messages if isinstance(m.step, Substitute)]
    assert [(s.load_kg, s.step) for s in substitutes] == [(D(20000), 1), (D(40000), 2)]  # established once
    checks = [m.step for m in simulation.messages if isinstance(m.step, ReadStable)]
    assert sum(step.purpose.startswith("substitution check") for step in checks) == 3  # the share rule, once
    series = {s["load"]: s for s in _points(simulation, "repeatability")}
    assert (series["30 t"]["substitute"], series["30 t"]["substitute_correction"]) == ("20 t", "20 kg")
    assert (series["60 t"]["substitute"], series["60 t"]["substitute_correction"]) == ("40 t", "40 kg")
    assert len(series["60 t"]["weights"]) == 23  # 20 t of weights on 40 t of substitute
    assert len(series["60 t"]["points"]) == 3
    discrimination = {p["load"]: p for p in _points(simulation, "discrimination")}
    assert (discrimination["60 t"]["substitute"], discrimination["60 t"]["substitute_correction"]) == ("40 t", "40 kg")
    assert discrimination["30 t"]["substitute"] == "20 t"
    assert "substitute" not in discrimination["400 kg"]
    eccentricity = simulation.product.record["tests"]["eccentricity"]
    assert eccentricity["load"] == "20 t"
    assert "substitute" not in eccentricity  # 20 t: the weights alone
    result = evaluate(parse_verification_record(dict(product.record)))
    repeatability = next(t for t in result.tests if t.name == "repeatability")
    assert [point.error_kg for point in repeatability.points if point.error_kg is not None] != []
    assert all(point.error_kg in (None, 0) for point in repeatability.points)
    places = [m.step for m in simulation.messages if isinstance(m.step, PlaceLoad) and m.step.load_kg == 60000]
    assert places[-1].weights[0] == "substitute 40 t (as established) on the receptor"


def test_the_eccentricity_load_is_moved_with_its_substitute() -> None:
    """12 t of weights (1/5 Max): the eccentricity load 20 t = 12 t of substitute + 8 t of weights at each
    position; its correction is that of the first substitution (20 kg)."""
    simulation = _run(12, Operator(check_dl=("10", "6", "10")), ("weighing", "eccentricity"))
    assert simulation.product.passed is True
    eccentricity = simulation.product.record["tests"]["eccentricity"]
    assert (eccentricity["substitute"], eccentricity["substitute_correction"]) == ("12 t", "20 kg")
    assert eccentricity["weights"] == [f"T{i:02d}" for i in range(8)]  # 8 x 1 t on the 12 t substitute
    positions = [
        m.step.position for m in simulation.messages if isinstance(m.step, PlaceLoad) and m.step.load_kg == 20000
    ]
    assert positions[-5:] == ["centre", "front-left", "front-right", "back-right", "back-left"]
    result = evaluate(parse_verification_record(dict(simulation.product.record)))
    eccentric = next(t for t in result.tests if t.name == "eccentricity")
    assert all(point.passed for point in eccentric.points)


def test_without_the_weighing_test_the_substitutes_are_established_where_first_needed() -> None:
    simulation = _run(20, Operator(check_dl=("10", "10", "4")), ("repeatability",))
    assert simulation.product.passed is True
    substitutes = [m.step for m in simulation.messages if isinstance(m.step, Substitute)]
    assert [(s.load_kg, s.step) for s in substitutes] == [(D(20000), 1), (D(40000), 2)]
    series = {s["load"]: s for s in _points(simulation, "repeatability")}
    assert (series["60 t"]["substitute"], series["60 t"]["substitute_correction"]) == ("40 t", "40 kg")


def test_the_share_rule_refuses_substitution_in_any_test() -> None:
    simulation = _run(20, Operator(check_dl=("10", "10", "3.99")), ("discrimination",))
    assert simulation.product.error is not None
    assert "more than 0.3 e" in simulation.product.error
    assert not any(isinstance(m.step, Substitute) for m in simulation.messages)
    assert "discrimination" not in simulation.product.record["tests"]


def test_loads_the_weights_cannot_complete_on_a_substitute_are_refused_naming_them() -> None:
    small = ("500 kg", "200 kg", "200 kg", "100 kg", "50 kg", "20 kg", "20 kg")  # 20.09 t: no 10 kg weight
    with pytest.raises(
        InputError,
        match=r"30 t \([a-z, ]+: the weights add up to only 20.09 t and cannot make up "
        r"the 9.91 t on the substitute\)",
    ):
        normalise({"record": truck_header(20, small)})


def test_substituted_items_of_a_record_are_checked_like_weighing_points() -> None:
    from hengqi.errors import RecordError

    record = {"format": "hengqi.verification-record", "version": 1, **truck_header(20)}
    series = {"load": "30 t", "substitute": "40 t", "points": [{"indication": "30 t"}, {"indication": "30 t"}]}
    record["tests"] = {"repeatability": {"series": [series]}}
    with pytest.raises(RecordError) as caught:
        evaluate(parse_verification_record(record))
    assert caught.value.path == "tests.repeatability.series[0].substitute"
    point = {"load": "30 t", "indication": "30 t", "indication_after": "30.02 t", "substitute": "40 t"}
    record["tests"] = {"discrimination": {"points": [point]}}
    with pytest.raises(RecordError) as caught:
        evaluate(parse_verification_record(record))
    assert caught.value.path == "tests.discrimination.points[0].substitute"
    series.update(substitute="20 t", substitute_correction="20 kg", weights=[f"T{i:02d}" for i in range(10)])
    series["points"] = [{"indication": "30.02 t"}, {"indication": "30.02 t"}]
    record["tests"] = {"repeatability": {"series": [series]}}
    result = evaluate(parse_verification_record(record))
    repeatability = next(t for t in result.tests if t.name == "repeatability")
    assert {point.error_kg for point in repeatability.points if point.error_kg is not None} == {D(0)}


def test_without_substitution_loads_above_the_set_are_refused_as_before() -> None:
    with pytest.raises(InputError, match=r"40 t \(weighing: the weights add up to only 20 t"):
        normalise({"record": truck_header(20), "options": {"tests": ["weighing"], "substitution": False}})


def test_every_load_the_plan_asks_for_names_its_weights() -> None:
    """Issue 11: "Place 50 g" (E0 at 10 e) named no weights with an M1 set starting at 100 g."""
    from .conftest import verification_header

    parameters = normalise({"record": verification_header()})
    assert parameters["options"]["zero_load"] == "100 g"
    simulation = simulate(verification_plan(parameters), VirtualBalance(D("0.005")).respond)
    places = [m.step for m in simulation.messages if isinstance(m.step, PlaceLoad)]
    assert places
    assert all(step.weights for step in places), [step for step in places if not step.weights]
    assert simulation.product.passed is True


def test_a_record_with_more_substitute_than_load_is_refused_naming_the_field() -> None:
    from hengqi.errors import RecordError

    header = truck_header(20)
    point = {"load": "30 t", "indication": "30 t", "substitute": "40 t", "direction": "increasing"}
    record = {"format": "hengqi.verification-record", "version": 1, **header}
    record["tests"] = {"weighing": {"points": [point]}}
    with pytest.raises(RecordError) as caught:
        evaluate(parse_verification_record(record))
    assert caught.value.path == "tests.weighing.points[0].substitute"
    point.update(substitute="20 t", substitute_correction="20 kg", indication="30.02 t")
    point["weights"] = [f"T{i:02d}" for i in range(10)]  # 10 x 1 t on top
    result = evaluate(parse_verification_record(record))
    weighing = next(t for t in result.tests if t.name == "weighing")
    assert weighing.points[0].error_kg == 0  # the reference value is 30 t + 20 kg
    assert weighing.points[0].mpe_kg == D(20)  # the MPE at the nominal 30 t (1 500 e: 1 e)
