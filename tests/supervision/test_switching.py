"""The switching procedure (MIL-STD-105E / ANSI/ASQ Z1.4 8.3, 8.4; secondary transcriptions, see the module) on
hand-made lot sequences, at the boundaries of each rule."""

from __future__ import annotations

import dataclasses

import pytest

from hengqi.errors import InputError
from hengqi.supervision.switching import (
    InspectionState,
    LotResult,
    ReducedConditions,
    Severity,
    next_state,
    resume_after_corrective_action,
    run_lots,
)

N, T, R, D = Severity.NORMAL, Severity.TIGHTENED, Severity.REDUCED, Severity.DISCONTINUED


def lots(text: str) -> list[LotResult]:
    return [LotResult(c) for c in text]


def severities(text: str, **kw: object) -> str:
    return "".join(s.severity.value[0].upper() for s in run_lots(lots(text), **kw))  # type: ignore[arg-type]


def tightened() -> InspectionState:
    return run_lots(lots("RR"))[-1]


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ("RR", "NT"),  # 2 of 2
        ("RAR", "NNT"),  # 2 of 3
        ("RAAR", "NNNT"),  # 2 of 4
        ("RAAAR", "NNNNT"),  # 2 of 5: exactly the boundary
        ("RAAAAR", "NNNNNN"),  # 2 of 6: the first rejection has left the window of 5
        ("ARAAAAR", "NNNNNNN"),
        ("RAAAARAAAR", "NNNNNNNNNT"),  # the 2nd and 3rd rejection are 5 apart
    ],
)
def test_normal_to_tightened_2_of_5_or_fewer(sequence: str, expected: str) -> None:
    assert severities(sequence) == expected


def test_the_switch_names_its_clause_and_the_window() -> None:
    s = run_lots(lots("RAAAR"))[-1]
    assert (s.severity, s.clause, s.lots) == (T, "8.3.1", 5)
    assert s.reason == "2 of the last 5 consecutive lots not accepted"


def test_tightened_to_normal_on_the_5th_consecutive_accepted_lot() -> None:
    states = run_lots(lots("AAAA" + "A"), start=tightened())
    assert [s.severity for s in states] == [T, T, T, T, N]
    assert (states[-1].clause, states[-1].lots) == ("8.3.2", 7)
    # a rejection breaks the run: 4 accepted, 1 rejected, 4 accepted is still tightened
    assert run_lots(lots("AAAARAAAA"), start=tightened())[-1].severity is T
    # back on normal the 2-of-5 window starts afresh: one rejection does not tighten again
    assert run_lots(lots("AAAAAR"), start=tightened())[-1].severity is N


def test_discontinuation_when_the_lots_not_accepted_on_tightened_reach_5() -> None:
    # 8.4 counts the lots not accepted cumulatively while tightened, not consecutively
    states = run_lots(lots("RAAAARAAAARAAAAR"), start=tightened())
    assert states[-1].severity is T
    assert states[-1].tightened_rejected == 4
    last = next_state(states[-1], LotResult.REJECTED)
    assert (last.severity, last.clause) == (D, "8.4")
    assert last.reason == "5 lots not accepted on tightened inspection"
    with pytest.raises(InputError, match="discontinued"):
        next_state(last, LotResult.ACCEPTED)
    resumed = resume_after_corrective_action(last)
    assert (resumed.severity, resumed.tightened_rejected, resumed.tightened_accepted_run) == (T, 0, 0)
    assert run_lots(lots("AAAAA"), start=resumed)[-1].severity is N
    with pytest.raises(InputError, match="only a discontinued"):
        resume_after_corrective_action(resumed)


def test_four_rejected_on_tightened_is_not_yet_discontinued() -> None:
    assert [s.severity for s in run_lots(lots("RRRR"), start=tightened())] == [T, T, T, T]
    assert run_lots(lots("RRRRR"), start=tightened())[-1].severity is D


def test_normal_to_reduced_after_the_10th_accepted_lot_within_the_limit_number() -> None:
    ok = ReducedConditions(limit_number=2)
    states = run_lots(lots("A" * 10), nonconforming=[0, 1, 0, 0, 0, 0, 0, 1, 0, 0], conditions=ok)
    assert [s.severity for s in states] == [N] * 9 + [R]
    assert states[-1].clause == "8.3.3"
    assert "2 nonconforming <= limit number 2" in states[-1].reason
    # one nonconforming more than the limit number: stays normal (8.3.3 b)
    over = run_lots(lots("A" * 10), nonconforming=[0, 1, 0, 0, 0, 0, 1, 1, 0, 0], conditions=ok)
    assert over[-1].severity is N
    # the 11th lot: lots 2-11 hold 3 nonconforming, still normal; the 12th: lots 3-12 hold 2, reduced
    counts = [0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0]
    assert run_lots(lots("A" * 11), nonconforming=counts[:11], conditions=ok)[-1].severity is N
    assert run_lots(lots("A" * 12), nonconforming=counts, conditions=ok)[-1].severity is R


def test_normal_to_reduced_needs_every_condition() -> None:
    ten = lots("A" * 10)
    assert severities("A" * 10) == "N" * 10  # no conditions given: never reduced
    assert run_lots(ten, conditions=ReducedConditions(limit_number=5))[-1].severity is N  # counts unknown
    dropped = ReducedConditions(limit_number=None)  # 8.5: limit numbers dropped by agreement
    assert run_lots(ten, conditions=dropped)[-1].severity is R
    assert run_lots(lots("A" * 9), conditions=dropped)[-1].severity is N  # only 9 lots
    assert run_lots(lots("R" + "A" * 9), conditions=dropped)[-1].severity is N  # one of the 10 rejected
    assert run_lots(lots("R" + "A" * 10), conditions=dropped)[-1].severity is R  # the preceding 10 accepted
    unsteady = ReducedConditions(limit_number=None, production_steady=False)
    assert run_lots(ten, conditions=unsteady)[-1].severity is N
    refused = ReducedConditions(limit_number=None, authority_approves=False)
    assert run_lots(ten, conditions=refused)[-1].severity is N


def test_reduced_to_normal() -> None:
    reduced = run_lots(lots("A" * 10), conditions=ReducedConditions(limit_number=None))[-1]
    assert reduced.severity is R
    assert next_state(reduced, LotResult.ACCEPTED).severity is R
    for result, clause in ((LotResult.REJECTED, "8.3.4 a"), (LotResult.ACCEPTED_REINSTATE, "8.3.4 b")):
        s = next_state(reduced, result)
        assert (s.severity, s.clause, s.normal_run) == (N, clause, ())
    s = next_state(reduced, LotResult.ACCEPTED, conditions=ReducedConditions(None, production_steady=False))
    assert (s.severity, s.clause) == (N, "8.3.4 c")
    s = next_state(reduced, LotResult.ACCEPTED, conditions=ReducedConditions(None, authority_approves=False))
    assert (s.severity, s.clause) == (N, "8.3.4 d")


def test_states_are_immutable_values() -> None:
    s = InspectionState()
    after = next_state(s, LotResult.REJECTED)
    assert s == InspectionState()
    assert after.normal_run == ((False, None),)
    with pytest.raises(dataclasses.FrozenInstanceError):
        after.severity = T  # type: ignore[misc]


def test_bad_input() -> None:
    with pytest.raises(InputError, match="reduced inspection only"):
        next_state(InspectionState(), LotResult.ACCEPTED_REINSTATE)
    with pytest.raises(InputError, match="lot 2"):
        run_lots(lots("AC"))
    with pytest.raises(InputError, match="negative"):
        next_state(InspectionState(), LotResult.ACCEPTED, nonconforming=-1)
    with pytest.raises(InputError, match="3 counts for 2 lots"):
        run_lots(lots("AA"), nonconforming=[0, 0, 0])
    with pytest.raises(InputError, match="negative"):
        ReducedConditions(limit_number=-1)
    with pytest.raises(InputError):
        next_state(InspectionState(), "A")  # type: ignore[arg-type]
