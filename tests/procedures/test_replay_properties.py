"""Replay is deterministic: a run interrupted anywhere and resumed from its stored state ends exactly as an
uninterrupted one; repeated submissions never record twice."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hengqi.procedures.runner import Runs
from hengqi.procedures.simulate import VirtualBalance
from hengqi.procedures.state import MemoryRunStore

from .conftest import verification_header

D = Decimal
PARAMETERS = {"record": verification_header(), "options": {"tests": ["weighing", "discrimination"]}}


def _drive(
    runs: Runs, run_id: str, balance: VirtualBalance, *, stop_after: int | None = None, repeat: bool = False
) -> int:
    """Answer steps as the balance would; returns the number of submissions made."""
    made = 0
    while (pending := runs.open(run_id).pending) is not None:
        if stop_after is not None and made >= stop_after:
            break
        answer = balance.respond(pending.step)
        runs.submit(run_id, pending.step_id, answer)
        if repeat:
            runs.submit(run_id, pending.step_id, answer)  # a double click
        made += 1
    return made


def _reference() -> dict[str, object]:
    runs = Runs(MemoryRunStore())
    runs.start("verification", PARAMETERS, run_id="ref")
    balance = VirtualBalance(D("0.005"), error=lambda load, position: load * D("0.0001"))
    _drive(runs, "ref", balance)
    return runs.open("ref").as_json()


REFERENCE = _reference()


@settings(max_examples=12, deadline=None)
@given(cut=st.integers(min_value=0, max_value=120), repeat=st.booleans())
def test_resuming_anywhere_gives_the_same_run(cut: int, repeat: bool) -> None:
    store = MemoryRunStore()
    balance = VirtualBalance(D("0.005"), error=lambda load, position: load * D("0.0001"))
    Runs(store).start("verification", PARAMETERS, run_id="ref")
    _drive(Runs(store), "ref", balance, stop_after=cut, repeat=repeat)
    _drive(Runs(store), "ref", balance, repeat=repeat)  # new service objects: as after a restart
    finished = Runs(store).open("ref").as_json()
    assert json.dumps(finished, sort_keys=True) == json.dumps(REFERENCE, sort_keys=True)
    assert finished["status"] == "finished"
    assert finished["product"]["passed"] is True
