"""Guided substitution in the calibration: a 60 t truck scale calibrated with 20 x 1 t M1 weights (issue 11)."""

from __future__ import annotations

import math
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.certificates.sample import ADMIN

from hengqi.certificates.admin import admin_from_mapping
from hengqi.certificates.pdf import render_certificate_pdf
from hengqi.errors import InputError
from hengqi.procedures.calibration import MAX_SUBSTITUTIONS, calibration_plan, normalise
from hengqi.procedures.simulate import VirtualBalance, simulate
from hengqi.procedures.steps import Answer, OperatorStep, PlaceLoad, ReadStable, RemoveLoad, Substitute
from hengqi.records.calibration import calibrate, parse_calibration_record

D = Decimal
D_KG = D(20)  # d = 20 kg
#: The substitute material the operator puts on is this much heavier than the standard weights it replaces
#: (two intervals: the indication with the substitute then reads 40 kg more).
SUBSTITUTE_EXCESS = D(40)


def truck_header(**weights: Any) -> dict[str, Any]:
    """A class III truck scale, Max 60 t, d = e = 20 kg, with 20 M1 weights of 1 t (20 t in all)."""
    entry = {"id": "T1t", "class": "M1", "nominal": "1000 kg", "quantity": 20, **weights}
    return {
        "date": "2026-11-18",
        "operator": "C. Technician",
        "instrument": {"id": "TS-60", "max": "60000 kg", "d": "20 kg", "e": "20 kg", "class": "III"},
        "weights": [entry],
    }


class SubstitutingOperator:
    """A careful operator on a :class:`VirtualBalance`: the substitute loads they put on are each
    :data:`SUBSTITUTE_EXCESS` heavier than the weights they replace; the loads placed on top keep them."""

    def __init__(self, balance: VirtualBalance) -> None:
        self.balance = balance
        self.substitutes = D(0)

    def respond(self, step: OperatorStep) -> Answer:
        answer = self.balance.respond(step)
        if isinstance(step, Substitute):
            self.substitutes += SUBSTITUTE_EXCESS
            self.balance.tracker.load_kg += self.substitutes
        elif isinstance(step, PlaceLoad):
            self.balance.tracker.load_kg += self.substitutes
        elif isinstance(step, RemoveLoad):
            self.substitutes = D(0)
        return answer


def _run(parameters: dict[str, Any]) -> Any:
    operator = SubstitutingOperator(VirtualBalance(D_KG))
    return simulate(calibration_plan(normalise(parameters)), operator.respond)


def test_a_60_t_scale_is_calibrated_with_20_t_of_weights_by_substitution() -> None:
    simulation = _run({"record": truck_header(), "options": {"conditions": False}})
    record = simulation.product.record
    points = {p["load"]: p for p in record["points"]}
    assert list(points) == ["12 t", "24 t", "36 t", "48 t", "60 t"]
    assert "substitution" not in points["12 t"]  # 12 t: the weights alone
    assert points["12 t"]["weights"] == [{"id": "T1t", "count": 12}]
    # 60 t = 3 x 20 t: two substitution steps, the 20 t of weights listed once (counted N + 1 = 3 times)
    assert points["60 t"]["weights"] == [{"id": "T1t", "count": 20}]
    assert points["60 t"]["substitution"] == [
        {"standard": "20 t", "substitute": "20.04 t"},
        {"standard": "40.04 t", "substitute": "40.08 t"},
    ]
    assert points["60 t"]["indication"] == "60.08 t"
    assert len(points["48 t"]["substitution"]) == 2  # 3 x 16 t
    assert points["48 t"]["weights"] == [{"id": "T1t", "count": 16}]
    assert len(points["24 t"]["substitution"]) == 1  # 2 x 12 t
    assert record["repeatability"][0]["load"] == "20 t"  # 0.5 Max made up from below, no substitution
    assert record["eccentricity"]["load"] == "20 t"

    result = calibrate(parse_calibration_record(dict(record)))
    top = next(p for p in result.points if p.load_kg == 60000)
    # m_ref counts the 20 t three times plus the substitutes' excess (I_sub - I_s = 40 kg twice): the balance has
    # no error, so E is only the weights' buoyancy correction, not the 80 kg by which I exceeds the nominal load
    assert abs(top.error_kg) < D("0.5")
    rounding = top.contribution("substitution-rounding")
    repeat = top.contribution("substitution-repeatability")
    assert rounding is not None
    assert repeat is not None
    assert rounding.u_kg == pytest.approx(math.sqrt(4) * 20 / (2 * math.sqrt(3)), rel=1e-12)
    assert "not read" in rounding.description  # the construction is marked, cg-18's formulas were not available
    weights = top.contribution("reference-mass")
    single = next(p for p in result.points if p.load_kg == 12000).contribution("reference-mass")
    assert weights is not None
    assert single is not None
    assert weights.u_kg == pytest.approx(single.u_kg * 20 / 12 * 3, rel=1e-9)  # 20 t counted 3 times, correlated
    assert next(p for p in result.points if p.load_kg == 12000).contribution("substitution-rounding") is None


def test_the_steps_say_what_to_place_take_off_and_substitute() -> None:
    simulation = _run({"record": truck_header(), "options": {"loads": ["60 t"], "eccentricity": False}})
    steps = [m.step for m in simulation.messages]
    start = next(i for i, s in enumerate(steps) if isinstance(s, ReadStable) and s.purpose == "no load")
    kinds = [(type(s).__name__, getattr(s, "load_kg", None)) for s in steps[start + 1 : start + 12]]
    assert kinds == [
        ("PlaceLoad", D(20000)),
        ("ReadStable", D(20000)),
        ("Substitute", D(20000)),
        ("ReadStable", D(20000)),
        ("PlaceLoad", D(40000)),
        ("ReadStable", D(40000)),
        ("Substitute", D(40000)),
        ("ReadStable", D(40000)),
        ("PlaceLoad", D(60000)),
        ("ReadStable", D(60000)),
        ("RemoveLoad", None),
    ]
    first, on_top = steps[start + 1], steps[start + 9]
    assert isinstance(first, PlaceLoad)
    assert first.weights == ("20 x T1t",)
    assert isinstance(on_top, PlaceLoad)
    assert on_top.weights == ("substitute 40 t (left in place)", "20 x T1t")
    swap = steps[start + 3]
    assert isinstance(swap, Substitute)
    assert swap.weights == ("20 x T1t",)
    assert swap.step == 1


def test_given_loads_above_the_set_are_built_exactly_or_refused_naming_the_load() -> None:
    simulation = _run({"record": truck_header(), "options": {"loads": ["50 t"], "eccentricity": False}})
    (point,) = simulation.product.record["points"]
    assert point["load"] == "50 t"
    assert point["weights"] == [{"id": "T1t", "count": 10}]  # 5 x 10 t: 50 t is not 3 or 4 equal whole tonnes
    assert len(point["substitution"]) == 4
    with pytest.raises(InputError, match=r"cannot make up exactly 59.5 t, even with up to 10") as caught:
        normalise({"record": truck_header(), "options": {"loads": ["59.5 t"]}})
    assert caught.value.path == "options.loads[0]"


def test_a_set_far_too_small_is_refused_naming_the_load() -> None:
    header = truck_header()
    header["weights"] = [
        {"id": "W200", "class": "E2", "nominal": "200 g"},
        {"id": "W100", "class": "E2", "nominal": "100 g"},
    ]
    with pytest.raises(InputError, match=rf"\(300 g in all\) cannot make up 12 t, even with up to {MAX_SUBSTITUTIONS}"):
        normalise({"record": header})


def test_without_the_option_loads_stay_within_the_weights() -> None:
    """A stored run from before substitution (options without it) replays as it was: loads made up from below."""
    parameters = normalise({"record": truck_header(), "options": {"eccentricity": False}})
    parameters["options"]["substitution"] = False
    simulation = simulate(calibration_plan(parameters), VirtualBalance(D_KG).respond)
    assert [p["load"] for p in simulation.product.record["points"]] == ["12 t", "20 t"]
    assert not any(isinstance(m.step, Substitute) for m in simulation.messages)


def test_the_certificate_says_how_the_loads_were_built(tmp_path: Path) -> None:
    simulation = _run({"record": truck_header(), "options": {"conditions": False, "eccentricity": False}})
    result = calibrate(parse_calibration_record(dict(simulation.product.record)))
    pdf = tmp_path / "certificate.pdf"
    item = {**ADMIN["item"], "name": {"en": "Truck scale", "zh": "汽车衡"}, "max": "60 t", "d": "20 kg", "e": "20 kg"}
    admin = admin_from_mapping({**ADMIN, "item": {**item, "class": "III"}})
    pdf.write_bytes(render_certificate_pdf(result, admin, plot=False))
    text = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout.split()
    )
    assert "Substitution loads" in text
    assert "built up by substitution" in text
    assert "At 24000 kg, 36000 kg, 48000 kg, 60000 kg the test load was built up by substitution" in text
    assert "12000 kg," not in text  # 12 t was made of the weights alone
    assert "hengqi construction" not in text
    assert "not read" not in text
