"""The runner: persisted after every step, resumable, idempotent, typed errors, cancellation with shutdown."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hengqi.errors import InputError
from hengqi.instruments.errors import ScaleUnstableError, TransportClosed, TransportTimeout
from hengqi.procedures.channels import ScriptChannel
from hengqi.procedures.errors import (
    CancelRequested,
    ConcurrentUpdateError,
    ReplayError,
    RunFinishedError,
    ScaleStepError,
    StaleStepError,
)
from hengqi.procedures.runner import Runner, Runs
from hengqi.procedures.session import PlanDefinition, PlanGenerator, PlanProduct, Session
from hengqi.procedures.simulate import VirtualBalance
from hengqi.procedures.state import JsonFileRunStore, MemoryRunStore
from hengqi.procedures.steps import (
    Decide,
    LiveResult,
    PlaceLoad,
    Prompt,
    ReadStable,
    Record,
    RemoveLoad,
    ZeroScale,
    as_mass,
)

D = Decimal


def weigh(parameters: Mapping[str, Any]) -> PlanGenerator:
    """A small plan: weigh each load once, report I - L, ask whether to keep the record."""
    yield Prompt("Begin.")
    yield ZeroScale()
    rows = []
    for text in parameters["loads"]:
        load = D(text)
        yield PlaceLoad(load)
        indication = as_mass((yield ReadStable("indication", load)))
        error = indication - load
        yield Record(f"p{len(rows)}", LiveResult("toy", text, load, "E", error, "MPE", D("0.005"), None, f"E={error}"))
        rows.append({"load": text, "indication": str(indication)})
    keep = yield Decide("keep", "Keep?", ("yes", "no"))
    return PlanProduct("weigh", {"rows": rows, "keep": keep}, None, ())


TOY = {"weigh": PlanDefinition("weigh", weigh, shutdown=(RemoveLoad(), Prompt("Switch off.")))}
PARAMS = {"loads": ["1", "2"]}


def _runs(store: Any = None) -> Runs:
    return Runs(store or MemoryRunStore(), TOY, clock=lambda: "2026-11-25T12:00:00+00:00")


def test_a_run_goes_from_start_to_end_with_shutdown_and_product() -> None:
    balance = VirtualBalance(D("0.001"), error=lambda load, position: load * D("0.002"))
    channel = ScriptChannel(decisions=["yes"], on_place=balance.place)
    session = Runner(_runs(), channel, balance).start("weigh", PARAMS, run_id="r1")
    assert session.status == "finished"
    assert session.product is not None
    assert session.product.record == {
        "rows": [{"load": "1", "indication": "1.002"}, {"load": "2", "indication": "2.004"}],
        "keep": "yes",
    }
    assert [r.value_kg for r in channel.shown] == [D("0.002"), D("0.004")]
    kinds = [kind for kind, _ in channel.transcript]
    assert kinds[-2:] == ["remove", "prompt"]  # shutdown steps ran after the plan
    assert len(session.state.results) == 2 + 2 + 2 + 1 + 2  # prompt, zero, 2 x (place, read), decide, shutdown
    assert {r.source for r in session.state.results if r.kind in ("read", "zero")} == {"instrument"}


def test_manual_entry_without_an_instrument() -> None:
    channel = ScriptChannel(["1.003 kg", "1999 g"], decisions=["no"])
    session = Runner(_runs(), channel, scale=None).start("weigh", PARAMS)
    assert session.product is not None
    assert session.product.record["rows"][1]["indication"] == "1.999"
    assert {r.source for r in session.state.results} == {"operator"}
    assert ("zero", "Set the instrument to zero.") in channel.transcript


def test_the_state_is_saved_after_every_step_and_a_run_resumes_after_a_restart(tmp_path: Path) -> None:
    store = JsonFileRunStore(tmp_path)
    runs = _runs(store)
    session = runs.start("weigh", PARAMS, run_id="r1")
    versions = []
    for answer in (None, None, None, "1.001 kg"):
        pending = session.pending
        assert pending is not None
        session = runs.submit("r1", pending.step_id, answer)
        versions.append(store.load("r1").version)
    assert versions == [1, 2, 3, 4]
    # a "server restart": new objects, same directory; the live results are replayed too
    restarted = _runs(JsonFileRunStore(tmp_path)).open("r1")
    assert restarted.pending is not None
    assert restarted.pending.step == PlaceLoad(D("2"))
    assert [r.value_kg for r in restarted.live_results] == [D("0.001")]
    channel = ScriptChannel(["2 kg"], decisions=["yes"])
    done = Runner(_runs(JsonFileRunStore(tmp_path)), channel).run("r1")
    assert done.status == "finished"
    assert done.product is not None
    assert done.product.record["rows"] == [{"load": "1", "indication": "1.001"}, {"load": "2", "indication": "2"}]
    assert channel.transcript[0][0] == "place"  # nothing done twice


def test_a_double_submission_is_recorded_once_and_a_stale_one_refused() -> None:
    runs = _runs()
    session = runs.start("weigh", PARAMS, run_id="r1")
    first = session.pending
    assert first is not None
    runs.submit("r1", first.step_id, None)
    again = runs.submit("r1", first.step_id, None)  # double click: same step, same answer
    assert again.state.version == 1
    assert len(again.state.results) == 1
    second = again.pending
    assert second is not None
    with pytest.raises(StaleStepError) as caught:
        runs.submit("r1", first.step_id, "1 kg")  # a different answer to a recorded step
    assert caught.value.expected == second.step_id
    with pytest.raises(StaleStepError):
        runs.submit("r1", "7:0000000000", None)  # a step the run has not reached
    with pytest.raises(StaleStepError):
        runs.submit("r1", "1:0000000000", None)  # the right number, another step
    assert runs.open("r1").state.version == 1


def test_two_technicians_racing_on_one_step_cannot_both_record() -> None:
    store = MemoryRunStore()
    runs = _runs(store)
    runs.start("weigh", PARAMS, run_id="r1")
    first, second = runs.open("r1"), runs.open("r1")  # both loaded version 0
    pending = first.pending
    assert pending is not None
    store.save(first.answer(pending.step_id, None, source="operator", by="ann", now="t"), expected_version=0)
    with pytest.raises(ConcurrentUpdateError):
        store.save(second.answer(pending.step_id, None, source="operator", by="bob", now="t"), expected_version=0)
    state = store.load("r1")
    assert [record.by for record in state.results] == ["ann"]


def test_a_bad_answer_records_nothing() -> None:
    runs = _runs()
    session = runs.start("weigh", PARAMS, run_id="r1")
    for _ in range(3):
        pending = runs.open("r1").pending
        assert pending is not None
        runs.submit("r1", pending.step_id, None)
    pending = runs.open("r1").pending
    assert pending is not None
    assert pending.step == ReadStable("indication", D("1"))
    with pytest.raises(InputError):
        runs.submit("r1", pending.step_id, "a lot")
    assert runs.open("r1").state.version == 3
    assert session.state.run_id == "r1"


@pytest.mark.parametrize(
    "fault",
    [
        TransportTimeout("tcp://127.0.0.1:1", "no reply within 1 s"),
        TransportClosed("tcp://127.0.0.1:1", "connection closed"),
        ScaleUnstableError("tcp://127.0.0.1:1", "S", "S I"),
    ],
)
def test_scale_errors_leave_the_run_at_the_same_step(fault: Exception) -> None:
    runs = _runs()
    balance = VirtualBalance(D("0.001"))
    balance.faults.append(fault)
    channel = ScriptChannel(decisions=["yes"], on_place=balance.place)
    runner = Runner(runs, channel, balance)
    runs.start("weigh", PARAMS, run_id="r1")
    with pytest.raises(ScaleStepError) as caught:
        runner.run("r1")
    assert caught.value.cause is fault
    assert caught.value.__cause__ is fault
    waiting = runs.open("r1").pending
    assert waiting is not None
    assert waiting.step_id == caught.value.step_id
    assert waiting.step == ReadStable("indication", D("1"))
    done = runner.run("r1")  # the cause is gone: resume at the same step
    assert done.status == "finished"
    assert done.product is not None
    assert done.product.record["rows"][0] == {"load": "1", "indication": "1.000"}


def test_cancelling_runs_the_shutdown_and_ends_without_a_product() -> None:
    channel = ScriptChannel(["1 kg"], cancel_after=4)
    session = Runner(_runs(), channel).start("weigh", PARAMS, run_id="r1")
    assert session.status == "cancelled"
    assert session.product is None
    assert [kind for kind, _ in channel.transcript][-2:] == ["remove", "prompt"]
    assert session.state.cancelled_at == 4


def test_an_ended_run_refuses_more_steps_and_cancels() -> None:
    runs = _runs()
    Runner(runs, ScriptChannel(["1 kg", "2 kg"], decisions=["yes"])).start("weigh", PARAMS, run_id="r1")
    with pytest.raises(RunFinishedError):
        runs.cancel("r1")
    with pytest.raises(RunFinishedError):
        runs.submit("r1", "99:abc", None)


class _CancelsAtRead(ScriptChannel):
    def manual_entry(self, step: Any) -> Decimal | str:
        raise CancelRequested


def test_an_operator_stopping_in_the_middle_of_a_step_cancels_the_run() -> None:
    channel = _CancelsAtRead()
    session = Runner(_runs(), channel).start("weigh", PARAMS)
    assert session.status == "cancelled"
    assert session.state.cancelled_at == 3


def test_a_run_whose_plan_changed_is_not_replayed_silently() -> None:
    store = MemoryRunStore()
    runs = _runs(store)
    Runner(runs, ScriptChannel(["1 kg", "2 kg"], decisions=["yes"])).start("weigh", PARAMS, run_id="r1")
    state = store.load("r1")
    changed = type(state)(state.run_id, state.kind, {"loads": ["1", "3"]}, state.results, None, "running", 99)
    with pytest.raises(ReplayError, match="results\\[4\\]"):
        Session(changed, TOY["weigh"])


def test_advancing_one_step_reads_the_instrument_once() -> None:
    """What a web page's "read now" button does: the pending step, performed once, even if asked twice."""
    runs = _runs()
    balance = VirtualBalance(D("0.001"), error=lambda load, position: load * D("0.003"))
    runner = Runner(runs, ScriptChannel(on_place=balance.place), balance)
    session = runs.start("weigh", PARAMS, run_id="r1")
    for _ in range(3):  # prompt, zero (instrument), place
        pending = session.pending
        assert pending is not None
        session = runner.advance("r1", pending.step_id)
    pending = session.pending
    assert pending is not None
    assert pending.step == ReadStable("indication", D("1"))
    reads = balance.reads
    session = runner.advance("r1", pending.step_id)
    again = runner.advance("r1", pending.step_id)  # a repeated request
    assert balance.reads == reads + 1
    assert again.state.version == session.state.version
    assert session.state.results[-1].answer == "1.003"
    assert session.state.results[-1].source == "instrument"
    with pytest.raises(StaleStepError):
        runner.advance("r1", "9:0123456789")
