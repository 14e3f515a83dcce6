"""Run integrity in the procedures layer: no repeated "remove all loads", corrections that keep the original,
flags and reasons kept with each answer, and the plausibility rules of readings (issue 11, items 1-3)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from itertools import pairwise

import pytest

from hengqi.errors import InputError
from hengqi.procedures.calibration import DEFINITION, normalise
from hengqi.procedures.plausibility import FAR_FRACTION, GROSS_FACTOR, check_reading, needs_confirmation
from hengqi.procedures.runner import Runs
from hengqi.procedures.session import Session, make_step_id
from hengqi.procedures.state import MemoryRunStore, RunState, StepRecord
from hengqi.procedures.steps import ReadStable, RemoveLoad

from .conftest import calibration_header

D = Decimal


def _drive(session: Session, *, stop_after: int | None = None) -> list[str]:
    """Answer every step as a perfect balance would; the kinds of the steps asked, in order."""
    kinds = []
    while (pending := session.pending) is not None:
        if stop_after is not None and len(kinds) >= stop_after:
            break
        kinds.append(pending.step.kind)
        answer = pending.step.load_kg if isinstance(pending.step, ReadStable) else None
        session.answer(pending.step_id, answer, source="operator", by="t", now="2026-12-07T08:00:00+00:00")
    return kinds


#: These tests are about the shutdown's remove step and corrections; the conditions steps are left out.
NO_CONDITIONS = {"conditions": False}


def _calibration() -> Session:
    parameters = normalise({"record": calibration_header(), "options": NO_CONDITIONS})
    return Session(RunState.new("r1", "calibration", parameters), DEFINITION)


def test_no_two_identical_remove_all_loads_steps_in_a_row() -> None:
    session = _calibration()
    kinds = _drive(session)
    assert session.status == "finished"
    assert kinds[-1] == "remove"  # the last test load taken off; the shutdown does not ask again
    assert all(not (a == b == "remove") for a, b in pairwise(kinds)), kinds


def test_a_run_recorded_with_the_repeated_remove_step_still_replays() -> None:
    """States saved before the rule hold the shutdown's second "remove all loads": they replay unchanged."""
    session = _calibration()
    _drive(session)
    state = session.state
    extra = StepRecord(
        make_step_id(len(state.results), RemoveLoad()), "remove", None, "operator", "t", "2026-12-07T08:00:00+00:00"
    )
    older = replace(state, results=(*state.results, extra))
    replayed = Session(older, DEFINITION)
    assert replayed.status == "finished"
    assert replayed.product is not None
    assert replayed.product.record == session.product.record  # type: ignore[union-attr]


def test_a_cancelled_run_after_a_removal_is_not_asked_to_remove_again() -> None:
    session = _calibration()
    kinds = _drive(session, stop_after=2)  # prompt, remove
    assert kinds == ["prompt", "remove"]
    session.cancel(now="2026-12-07T08:00:00+00:00")
    assert session.status == "cancelled"
    assert session.pending is None


def test_a_reading_is_corrected_with_a_reason_and_the_original_kept() -> None:
    session = _calibration()
    _drive(session)
    index, step, record = next((i, s, r) for i, s, r in session.history if isinstance(s, ReadStable))
    assert isinstance(step, ReadStable)
    assert step.purpose == "repeatability #1"
    state = session.correct(
        index, "110.0003 g", reason="typed 110.0000 by mistake", source="operator", by="t", now="2026-12-07T09:00"
    )
    assert state.results[index].answer == "0.1100003"
    assert state.results[index].reason == "typed 110.0000 by mistake"
    assert state.corrections == [
        {
            "index": index,
            "original": record.as_json(),
            "reason": "typed 110.0000 by mistake",
            "by": "t",
            "at": "2026-12-07T09:00",
        }
    ]
    assert session.product is not None
    assert session.product.record["repeatability"][0]["readings"][0] == "110.0003 g"
    again = Session(RunState.loads(state.dumps()), DEFINITION)  # the correction survives storage and replay
    assert again.state.corrections == state.corrections
    assert again.product is not None
    assert again.product.record == session.product.record


def test_corrections_need_a_reason_a_reading_and_a_recorded_step() -> None:
    session = _calibration()
    _drive(session, stop_after=6)
    with pytest.raises(InputError, match="needs a reason"):
        session.correct(5, "110 g", reason="  ", source="operator", by="t", now="x")
    with pytest.raises(InputError, match="only readings can be corrected"):
        session.correct(0, "110 g", reason="why not", source="operator", by="t", now="x")
    with pytest.raises(InputError, match="expected a recorded step"):
        session.correct(6, "110 g", reason="not yet recorded", source="operator", by="t", now="x")
    with pytest.raises(InputError):
        session.correct(4, "a lot", reason="bad value", source="operator", by="t", now="x")
    assert session.state.corrections == []


def test_the_runs_api_stores_a_correction_with_a_compare_and_set() -> None:
    store = MemoryRunStore()
    runs = Runs(store, {"calibration": DEFINITION})
    started = runs.start("calibration", {"record": calibration_header(), "options": NO_CONDITIONS}, run_id="c1")
    for _ in range(5):  # prompt, remove, zero, place, read
        pending = started.pending
        assert pending is not None
        answer = pending.step.load_kg if isinstance(pending.step, ReadStable) else None
        started = runs.submit("c1", pending.step_id, answer, flags=("beyond_mpe",) if answer else (), reason="")
    assert store.load("c1").results[4].flags == ("beyond_mpe",)
    corrected = runs.correct("c1", 4, D("0.1100001"), reason="re-read the display", by="t")
    assert store.load("c1").version == corrected.state.version == 6
    assert store.load("c1").results[4].answer == "0.1100001"
    assert store.load("c1").corrections[0]["original"]["flags"] == ["beyond_mpe"]


def test_step_records_keep_flags_and_reasons_and_older_records_read_the_same() -> None:
    record = StepRecord("3:abc", "read", "0.11", "operator", "t", "now", ("sign", "gross_error"), "the tare was on")
    assert StepRecord.from_json(record.as_json(), path="r") == record
    plain = StepRecord("3:abc", "read", "0.11", "operator", "t", "now")
    assert "flags" not in plain.as_json()
    assert "reason" not in plain.as_json()
    assert StepRecord.from_json(plain.as_json(), path="r") == plain
    with pytest.raises(InputError, match="flags"):
        StepRecord.from_json({**plain.as_json(), "flags": "sign"}, path="r")


# -- plausibility ------------------------------------------------------------------------------------------
MPE_110G = D("0.000002")  # class I, e = 1 mg, 110 g = 110 000 e: 1 e initial, 2 e in service (R 76-1 3.5.2)


def test_minus_five_grams_under_a_110_gram_load_is_gross() -> None:
    findings = check_reading(D("0.11"), D("-0.005"), mpe_kg=MPE_110G)
    assert [f.code for f in findings] == ["sign", "gross_error"]
    assert needs_confirmation(findings)
    assert "-5 g" in findings[0].message


def test_the_gross_boundary_is_a_multiple_of_the_in_service_mpe() -> None:
    at_limit = D("0.11") + GROSS_FACTOR * MPE_110G
    assert [f.code for f in check_reading(D("0.11"), at_limit, mpe_kg=MPE_110G)] == ["beyond_mpe"]
    beyond = at_limit + D("0.0000001")
    assert [f.code for f in check_reading(D("0.11"), beyond, mpe_kg=MPE_110G)] == ["gross_error"]
    assert check_reading(D("0.11"), D("0.11") + MPE_110G, mpe_kg=MPE_110G) == ()  # |E| = MPE: within


def test_the_repeatability_rule_compares_the_spread_with_the_mpe() -> None:
    """OIML R 76-1:2006 3.6.1: the difference between results for one load is at most the MPE."""
    earlier = [D("0.1100000"), D("0.1100010")]
    assert check_reading(D("0.11"), D("0.1100020"), mpe_kg=MPE_110G, same_load=earlier) == ()
    codes = [f.code for f in check_reading(D("0.11"), D("0.1099985"), mpe_kg=MPE_110G, same_load=earlier)]
    assert codes == ["repeatability"]


def test_without_a_class_only_the_sign_and_a_far_reading_are_checked() -> None:
    load = D(100)
    assert check_reading(load, load * (1 + FAR_FRACTION), mpe_kg=None) == ()
    assert [f.code for f in check_reading(load, load * (1 + FAR_FRACTION) + 1, mpe_kg=None)] == ["far"]
    assert [f.code for f in check_reading(load, D(-1), mpe_kg=None)] == ["sign", "far"]


def test_a_small_negative_zero_reading_is_not_a_sign_error() -> None:
    assert check_reading(D(0), D("-0.000001"), mpe_kg=MPE_110G) == ()
    assert [f.code for f in check_reading(D(0), D("-0.001"), mpe_kg=MPE_110G)] == ["gross_error"]
