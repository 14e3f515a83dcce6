"""Switching between normal, tightened and reduced inspection, and discontinuation, for a continuing series of
lots inspected by attributes: the switching procedures of MIL-STD-105E (10 May 1989), followed by ANSI/ASQ Z1.4
and, except for normal to reduced, by ISO 2859-1.  A pure, immutable state machine: :func:`next_state` takes a
state and the result of one lot on original inspection and returns the new state with the clause that decided it.

SECONDARY SOURCE.  The standards themselves could not be read here.  The rules are taken from published
transcriptions of their text (read 2026-12-07 through the ``search`` tool, which shows excerpts):

* "8.3.3 b - d, 8.3.4, 8.4, 8.5" in the clause numbering of ANSI/ASQ Z1.4 (text-id.123dok.com, document
  "wye1d0w7z-sampling-plan-...": reduced to normal a-d, discontinuation "reaches 5", limit numbers 8.5);
* the same procedures as "4.7.1 - 4.7.4, 4.8" of the MIL-STD-105D/E text (altius-chinaservices.cn/column.asp?id=14:
  normal to tightened "2 out of 2, 3, 4, or 5 consecutive lots or batches have been rejected on original
  inspection", tightened to normal "5 consecutive lots", normal to reduced a-d, "discontinued");
* the AQL Inspector's Rule manual (aqlrule.com/manual/switch.html: "2 out of 5 (or fewer) consecutive lots",
  "5 consecutive lots", discontinuation after 5 lots not accepted on tightened inspection, "ANSI/ASQ Z1.4-2003
  and ISO 2859-1");
* MIL-STD-105E 4.10.1.4 "Special procedure for reduced inspection" (inspectionchina.com/MIL-STD-105E-ENERAL-
  REQUIREMENTS-acceptablility.htm): under reduced inspection the procedure may end with neither the acceptance
  nor the rejection criterion met; the sentence saying how such a lot is then treated is cut off in the excerpt
  read.  The switching clause of Z1.4 (8.3.4 b, "considered acceptable under the procedures for reduced
  inspection given in 10.1.4") makes such a lot a reason to return to normal: :attr:`LotResult.ACCEPTED_REINSTATE`.

Not implemented, because their text or numbers could not be read: the limit numbers of Table VIII (the caller
gives the applicable limit number, see :class:`ReducedConditions`), the note to Table VIII that asks for more
than 10 lots for some plans, and ISO 2859-1:1999's switching score (9.3.3), which replaces conditions a and b of
normal to reduced: a source confirms that the score starts at zero at the start of normal inspection, is updated
after each lot on normal inspection, and that reduced inspection follows a score of at least 30 (sqconline.com/
switching-rules-iso-2859-1), but not the rule by which it is updated.

>>> s = InspectionState()
>>> for result in "ARR":
...     s = next_state(s, LotResult(result))
>>> (s.severity.value, s.clause)
('tightened', '8.3.1')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Final

from hengqi.errors import InputError

__all__ = [
    "DISCONTINUE_AFTER",
    "InspectionState",
    "LotResult",
    "ReducedConditions",
    "Severity",
    "next_state",
    "resume_after_corrective_action",
    "run_lots",
]

#: 8.3.1: tightened when 2 of at most this many consecutive lots on normal inspection are not accepted.
TIGHTEN_WINDOW: Final = 5
TIGHTEN_REJECTS: Final = 2
#: 8.3.2: normal again after this many consecutive lots accepted on tightened inspection.
RELAX_AFTER: Final = 5
#: 8.3.3 a: the preceding lots on normal inspection, all accepted, before reduced inspection.
REDUCE_AFTER: Final = 10
#: 8.4: discontinue when the lots not accepted on tightened inspection reach this number.
DISCONTINUE_AFTER: Final = 5


class Severity(Enum):
    """The severity of inspection in effect (MIL-STD-105E / ANSI/ASQ Z1.4 8.3), or discontinued (8.4)."""

    NORMAL = "normal"
    TIGHTENED = "tightened"
    REDUCED = "reduced"
    DISCONTINUED = "discontinued"


class LotResult(Enum):
    """The result of one lot on original inspection (resubmitted lots are ignored, 8.3.1)."""

    ACCEPTED = "A"
    REJECTED = "R"
    #: Under reduced inspection only: the procedure ended with neither Ac nor Re reached; the lot is not
    #: rejected, but normal inspection is reinstated (Z1.4 8.3.4 b, MIL-STD-105E 4.10.1.4).
    ACCEPTED_REINSTATE = "C"


@dataclass(frozen=True, slots=True)
class ReducedConditions:
    """What normal to reduced (8.3.3 b - d) needs beyond the lots' results, as the caller knows it.

    ``limit_number``: the limit number of Table VIII for the AQL and the number of sample units in the
    preceding 10 lots (Table VIII could not be read here: the caller supplies it); ``None`` means that the
    responsible authorities of both parties agreed to drop 8.3.3 b (8.5).  ``production_steady``: 8.3.3 c (on
    reduced inspection, ``False`` returns to normal, 8.3.4 c).  ``authority_approves``: the responsible authority
    considers reduced inspection desirable, 8.3.3 d (on reduced inspection, ``False`` returns to normal, 8.3.4 d).
    """

    limit_number: int | None
    production_steady: bool = True
    authority_approves: bool = True

    def __post_init__(self) -> None:
        if self.limit_number is not None and self.limit_number < 0:
            raise InputError("limit_number", f"must not be negative, got {self.limit_number}")


@dataclass(frozen=True, slots=True)
class InspectionState:
    """The state of the switching procedure after ``lots`` lots: the severity in effect for the next lot, the
    clause and reason of the last change (or of keeping it), and the counters the rules need.

    ``normal_run``: the results (accepted, nonconforming count or ``None``) of the lots on normal inspection since
    it was last instituted, the latest last, at most :data:`REDUCE_AFTER` kept.  ``tightened_accepted_run``: the
    consecutive lots accepted on tightened inspection; ``tightened_rejected``: the lots not accepted since
    tightened inspection was instituted (8.4 counts them cumulatively, not consecutively)."""

    severity: Severity = Severity.NORMAL
    lots: int = 0
    clause: str = "start"
    reason: str = "normal inspection at the start"
    normal_run: tuple[tuple[bool, int | None], ...] = ()
    tightened_accepted_run: int = 0
    tightened_rejected: int = 0


def _enter(state: InspectionState, severity: Severity, clause: str, reason: str) -> InspectionState:
    return InspectionState(severity, state.lots + 1, clause, reason)


def _normal(
    state: InspectionState, result: LotResult, nonconforming: int | None, conditions: ReducedConditions | None
) -> InspectionState:
    accepted = result is LotResult.ACCEPTED
    run = (*state.normal_run, (accepted, nonconforming))[-REDUCE_AFTER:]
    window = run[-TIGHTEN_WINDOW:]
    rejected = sum(1 for ok, _ in window if not ok)
    if rejected >= TIGHTEN_REJECTS:
        last = min(len(run), TIGHTEN_WINDOW)
        return _enter(
            state, Severity.TIGHTENED, "8.3.1", f"{rejected} of the last {last} consecutive lots not accepted"
        )
    kept = InspectionState(Severity.NORMAL, state.lots + 1, "8.3", "normal inspection continues", run)
    if conditions is None or len(run) < REDUCE_AFTER or not all(ok for ok, _ in run):
        return kept
    if conditions.limit_number is not None:
        counts = [n for _, n in run]
        if any(n is None for n in counts):
            return kept  # 8.3.3 b cannot be shown without the counts
        total = sum(n for n in counts if n is not None)
        if total > conditions.limit_number:
            return kept
        why_b = f"{total} nonconforming <= limit number {conditions.limit_number}"
    else:
        why_b = "limit numbers dropped by agreement (8.5)"
    if not conditions.production_steady or not conditions.authority_approves:
        return kept
    return _enter(
        state,
        Severity.REDUCED,
        "8.3.3",
        f"the preceding {REDUCE_AFTER} lots on normal inspection accepted; {why_b}; production steady; "
        "approved by the responsible authority",
    )


def next_state(
    state: InspectionState,
    result: LotResult,
    *,
    nonconforming: int | None = None,
    conditions: ReducedConditions | None = None,
) -> InspectionState:
    """The state after one more lot on original inspection (MIL-STD-105E / ANSI/ASQ Z1.4 8.3 and 8.4, as
    transcribed by secondary sources: see the module's docstring).

    * normal to tightened (8.3.1): 2 of 5 or fewer consecutive lots on normal inspection not accepted;
    * tightened to normal (8.3.2): 5 consecutive lots accepted on tightened inspection;
    * normal to reduced (8.3.3): the preceding 10 lots on normal inspection all accepted, their nonconforming
      total within ``conditions.limit_number`` (or that check dropped, 8.5), production steady, the authority
      approving; without ``conditions`` reduced inspection is never instituted;
    * reduced to normal (8.3.4): a lot rejected, a lot ended between Ac and Re (:attr:`LotResult.ACCEPTED_REINSTATE`),
      production irregular, or the authority withdrawing approval (``conditions``);
    * discontinuation (8.4): the lots not accepted on tightened inspection reach 5; then this function refuses
      until :func:`resume_after_corrective_action`.

    ``nonconforming``: the nonconforming units (or nonconformities) found in the lot's samples, needed for 8.3.3 b.
    """
    if not isinstance(result, LotResult):
        raise InputError("result", f"expected a LotResult, got {result!r}")
    if nonconforming is not None and nonconforming < 0:
        raise InputError("nonconforming", f"must not be negative, got {nonconforming}")
    if result is LotResult.ACCEPTED_REINSTATE and state.severity is not Severity.REDUCED:
        raise InputError("result", f"{result.value!r} exists under reduced inspection only, not {state.severity.value}")
    if state.severity is Severity.DISCONTINUED:
        raise InputError("state", "inspection is discontinued (8.4) until corrective action has been taken")
    if state.severity is Severity.NORMAL:
        return _normal(state, result, nonconforming, conditions)
    if state.severity is Severity.TIGHTENED:
        if result is LotResult.ACCEPTED:
            run = state.tightened_accepted_run + 1
            if run >= RELAX_AFTER:
                return _enter(state, Severity.NORMAL, "8.3.2", f"{run} consecutive lots accepted on tightened")
            return InspectionState(
                Severity.TIGHTENED, state.lots + 1, "8.3", "tightened inspection continues",
                tightened_accepted_run=run, tightened_rejected=state.tightened_rejected,
            )  # fmt: skip
        rejected = state.tightened_rejected + 1
        if rejected >= DISCONTINUE_AFTER:
            return _enter(state, Severity.DISCONTINUED, "8.4", f"{rejected} lots not accepted on tightened inspection")
        return InspectionState(
            Severity.TIGHTENED, state.lots + 1, "8.3", "tightened inspection continues", tightened_rejected=rejected
        )
    # reduced
    if result is LotResult.REJECTED:
        return _enter(state, Severity.NORMAL, "8.3.4 a", "a lot rejected on reduced inspection")
    if result is LotResult.ACCEPTED_REINSTATE:
        return _enter(state, Severity.NORMAL, "8.3.4 b", "a lot accepted between Ac and Re on reduced inspection")
    if conditions is not None and not conditions.production_steady:
        return _enter(state, Severity.NORMAL, "8.3.4 c", "production irregular or delayed")
    if conditions is not None and not conditions.authority_approves:
        return _enter(state, Severity.NORMAL, "8.3.4 d", "other conditions warrant normal inspection")
    return InspectionState(Severity.REDUCED, state.lots + 1, "8.3", "reduced inspection continues")


def resume_after_corrective_action(state: InspectionState) -> InspectionState:
    """Resume a discontinued inspection once corrective action has been taken: tightened inspection "as if
    8.3.1 had been invoked" (ANSI/ASQ Z1.4 8.4, secondary transcription)."""
    if state.severity is not Severity.DISCONTINUED:
        raise InputError("state", f"only a discontinued inspection resumes, this one is {state.severity.value}")
    return InspectionState(Severity.TIGHTENED, state.lots, "8.4", "resumed on tightened after corrective action")


def run_lots(
    results: Iterable[LotResult],
    *,
    nonconforming: Iterable[int | None] | None = None,
    conditions: ReducedConditions | None = None,
    start: InspectionState | None = None,
) -> tuple[InspectionState, ...]:
    """The state after each lot of a sequence (``nonconforming``, if given, one count per lot)."""
    results = tuple(results)
    counts: tuple[int | None, ...] = (None,) * len(results) if nonconforming is None else tuple(nonconforming)
    if len(counts) != len(results):
        raise InputError("nonconforming", f"{len(counts)} counts for {len(results)} lots")
    state = InspectionState() if start is None else start
    states = []
    for i, (result, count) in enumerate(zip(results, counts, strict=True)):
        try:
            state = next_state(state, result, nonconforming=count, conditions=conditions)
        except InputError as err:
            raise InputError(f"lot {i + 1}", str(err)) from None
        states.append(state)
    return tuple(states)
