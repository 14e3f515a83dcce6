"""Run states are plain JSON; stores save with a compare-and-set and never half-write a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hengqi.procedures.errors import ConcurrentUpdateError, RunExistsError, RunStateError, UnknownRunError
from hengqi.procedures.state import (
    JsonFileRunStore,
    JsonStateFile,
    MemoryRunStore,
    RunState,
    RunStore,
    StepRecord,
)

NOW = "2026-11-25T12:00:00+00:00"


def _state(run_id: str = "run-1") -> RunState:
    return RunState.new(run_id, "verification", {"record": {"operator": "X"}, "n": [1, 2]}, now=NOW)


def _answer(state: RunState, value: str | None = "1.005") -> RunState:
    index = len(state.results)
    return state.with_answer(StepRecord(f"{index}:abc", "read", value, "operator", "ann", NOW))


def test_a_state_round_trips_through_json() -> None:
    state = _answer(_answer(_state())).with_cancel(now=NOW)
    again = RunState.loads(state.dumps())
    assert again == state
    assert again.version == 3
    assert again.cancelled_at == 2


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"format": "other"}, "format"),
        ({"run_id": "../x"}, "run_id"),
        ({"kind": 3}, "kind"),
        ({"parameters": []}, "parameters"),
        ({"results": {}}, "results"),
        ({"results": [{"step_id": 1}]}, "results[0].step_id"),
        ({"cancelled_at": 5}, "cancelled_at"),
        ({"status": "paused"}, "status"),
        ({"version": -1}, "version"),
    ],
)
def test_a_damaged_state_names_the_field(change: dict[str, object], path: str) -> None:
    data = {**_state().as_json(), **change}
    with pytest.raises(RunStateError) as caught:
        RunState.from_json(data)
    assert caught.value.path == path


def test_a_state_file_that_is_not_json_is_refused_clearly() -> None:
    with pytest.raises(RunStateError, match="not valid JSON"):
        RunState.loads("{oops")


def _stores(tmp_path: Path) -> list[RunStore]:
    return [MemoryRunStore(), JsonFileRunStore(tmp_path / "runs")]


def test_stores_create_load_and_compare_and_set(tmp_path: Path) -> None:
    for store in _stores(tmp_path):
        state = _state()
        store.create(state)
        with pytest.raises(RunExistsError):
            store.create(state)
        first = _answer(state)
        store.save(first, expected_version=0)
        assert store.load("run-1") == first
        rival = _answer(state, "2.000")  # built from the same old version
        with pytest.raises(ConcurrentUpdateError) as caught:
            store.save(rival, expected_version=0)
        assert caught.value.found_version == 1
        assert store.load("run-1").results[0].answer == "1.005"
        with pytest.raises(UnknownRunError):
            store.load("run-2")
        assert store.run_ids() == ("run-1",)


def test_the_file_store_writes_one_json_file_per_run_and_no_temporary_files(tmp_path: Path) -> None:
    store = JsonFileRunStore(tmp_path)
    state = _state()
    store.create(state)
    store.save(_answer(state), expected_version=0)
    assert json.loads((tmp_path / "run-1.json").read_text(encoding="utf-8"))["version"] == 1
    assert not list(tmp_path.glob("*.tmp"))
    (tmp_path / "run-2.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(RunStateError):
        store.load("run-2")
    with pytest.raises(RunStateError):
        store.path_for("../escape")


def test_a_state_file_holds_exactly_one_run(tmp_path: Path) -> None:
    store = JsonStateFile(tmp_path / "state.json")
    assert store.run_ids() == ()
    store.create(_state("run-a"))
    assert store.load_only().run_id == "run-a"
    with pytest.raises(RunExistsError):
        store.create(_state("run-b"))
    with pytest.raises(UnknownRunError):
        store.load("run-b")
