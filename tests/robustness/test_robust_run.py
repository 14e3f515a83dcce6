"""Robustness of ``hengqi run verification|calibration`` (header files, options, ``--state``, ``--out``, stdin).

Defects found and fixed (regression tests below):
* a header file holding a YAML alias bomb got the process killed for memory (the header is copied through
  JSON into the run state); the reader now refuses it;
* a ``--state`` file that is not UTF-8 crashed with ``UnicodeDecodeError``, one nested too deeply with
  ``RecursionError``, one whose ``parameters.record`` is not a mapping with ``AttributeError``;
* a closed stdin (``<&-``: ``sys.stdin is None``) crashed with ``AttributeError``; it now pauses the run;
* ``--out`` in a missing folder was found only after the whole run, and a failed write lost the record (no
  ``--state``); ``--out`` is now checked before the run starts, written through a temporary file, and printed
  when it cannot be written; an ``--out`` naming the run's own ``--state`` or ``--instrument`` file is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hengqi.metrology.quantities import to_unit
from hengqi.procedures.errors import RunStateError
from hengqi.procedures.simulate import VirtualBalance, simulate
from hengqi.procedures.state import JsonStateFile, RunState
from hengqi.procedures.steps import Decide, FindChangeover, ReadStable, Record
from hengqi.procedures.verification import normalise, verification_plan

from .conftest import GARBAGE, Hengqi, billion_laughs

HEADER = {
    "instrument": {"id": "S-1", "specification": {"class": "III", "max": "15 kg", "e": "5 g", "supports": 4}},
    "operator": "A. Inspector",
    "date": "2026-11-25",
}


def _header(tmp_path: Path, header: dict[str, Any] | None = None) -> Path:
    path = tmp_path / "header.yaml"
    path.write_text(yaml.safe_dump(header or HEADER), encoding="utf-8")
    return path


def _answers(tests: list[str]) -> str:
    """What an operator types for a passing verification (found by simulating the plan on a virtual balance)."""
    simulation = simulate(verification_plan(normalise({"record": HEADER, "options": {"tests": tests}})),
                          VirtualBalance(Decimal("0.005")).respond)  # fmt: skip
    lines = []
    for message in simulation.messages:
        step = message.step
        if isinstance(step, Record):
            continue
        if isinstance(step, ReadStable | FindChangeover):
            lines.append(format(to_unit(message.answer, "g").normalize(), "f"))
        else:
            lines.append(message.answer if isinstance(step, Decide) else "")
    return "\n".join([*lines, ""]) + "\n"


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Any:
    def feed(text: str) -> None:
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(text))

    return feed


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_header_files_are_refused(hengqi: Hengqi, tmp_path: Path, stdin: Any, name: str) -> None:
    bad = tmp_path / "h.yaml"
    bad.write_bytes(GARBAGE[name])
    stdin("")
    hengqi("run", "verification", "--manual", "--instrument", bad, "--operator", "x").refused()


def test_alias_bomb_header_is_refused_before_it_expands(hengqi: Hengqi, tmp_path: Path, stdin: Any) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_bytes(billion_laughs(9))
    stdin("")
    hengqi("run", "verification", "--manual", "--instrument", bomb, "--operator", "x").refused("alias bomb")


@pytest.mark.parametrize("name", ["binary", "invalid-utf8", "deep-list", "empty", "list", "long-int"])
def test_garbage_state_files_are_refused_and_kept(hengqi: Hengqi, tmp_path: Path, stdin: Any, name: str) -> None:
    state = tmp_path / "s.json"
    state.write_bytes(GARBAGE[name])
    stdin("\n\n")
    hengqi("run", "verification", "--manual", "--state", state).refused(str(state))
    assert state.read_bytes() == GARBAGE[name]


@pytest.fixture
def paused_state(hengqi: Hengqi, tmp_path: Path, stdin: Any) -> Path:
    """A verification run paused after two steps (input ended)."""
    state = tmp_path / "run.json"
    stdin("\n\n")
    result = hengqi("run", "verification", "--manual", "--instrument", _header(tmp_path), "--state", state)
    assert result.rc == 1
    assert "input ended" in result.err
    return state


def test_stdin_closed_early_keeps_a_valid_state_and_garbage_answers_do_not_corrupt_it(
    hengqi: Hengqi, paused_state: Path, stdin: Any
) -> None:
    before = json.loads(paused_state.read_text(encoding="utf-8"))
    stdin("garbage\n1e400\nNaN\n-5\n\x00\n" + "x" * 100_000 + "\n")
    assert hengqi("run", "verification", "--manual", "--state", paused_state).rc == 1
    after = json.loads(paused_state.read_text(encoding="utf-8"))
    assert after["results"][: len(before["results"])] == before["results"]
    assert after["run_id"] == before["run_id"]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"parameters": {"record": 5}}, "record"),
        ({"parameters": {"record": {"instrument": 5}, "options": 3}}, "record.instrument"),
        ({"run_id": "../../etc/passwd"}, "run_id"),
        ({"format": "x"}, "format"),
        ({"results": "x"}, "results"),
    ],
)
def test_tampered_state_is_refused_and_left_as_it_was(
    hengqi: Hengqi, paused_state: Path, stdin: Any, change: dict[str, Any], needle: str
) -> None:
    data = json.loads(paused_state.read_text(encoding="utf-8"))
    data.update(change)
    paused_state.write_text(json.dumps(data), encoding="utf-8")
    digest = _digest(paused_state)
    stdin("\n\n")
    hengqi("run", "verification", "--manual", "--state", paused_state).refused(needle)
    assert _digest(paused_state) == digest


def test_wrong_kind_on_an_existing_state_leaves_it_untouched(hengqi: Hengqi, paused_state: Path, stdin: Any) -> None:
    digest = _digest(paused_state)
    stdin("")
    hengqi("run", "calibration", "--manual", "--state", paused_state).refused("--state", "holds a verification run")
    assert _digest(paused_state) == digest


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--date", "2026-02-30"), "record.date"),
        (("--unit", "KG"), "--unit"),
        (("--tests", "bogus"), "options.tests[0]"),
        (("--loads", "1 kg"), "--loads"),
        (("--operator", ""), "record.operator"),
    ],
)
def test_bad_options_are_refused_before_the_run(
    hengqi: Hengqi, tmp_path: Path, stdin: Any, args: tuple[str, ...], needle: str
) -> None:
    stdin("")
    hengqi("run", "verification", "--manual", "--instrument", _header(tmp_path), *args).refused(needle)


@pytest.mark.parametrize("url", ["bogus", "tcp://", "tcp://127.0.0.1:99999", "http://x"])
def test_bad_scale_addresses_are_refused(hengqi: Hengqi, tmp_path: Path, stdin: Any, url: str) -> None:
    stdin("")
    hengqi("run", "verification", "--scale", url, "--instrument", _header(tmp_path)).refused(url)


def test_out_in_a_missing_folder_is_refused_before_the_run(hengqi: Hengqi, tmp_path: Path, stdin: Any) -> None:
    state = tmp_path / "s.json"
    stdin(_answers(["weighing"]))
    out = tmp_path / "no" / "record.yaml"
    args = ("run", "verification", "--manual", "--instrument", _header(tmp_path), "--state", state, "--out", out)
    hengqi(*args).refused("--out", "does not exist")
    assert not state.exists()  # refused before anything was started
    hengqi(*args[:-1], tmp_path).refused("--out", "is a directory", "see 'hengqi run --help'")


def test_record_is_printed_when_out_cannot_be_written(hengqi: Hengqi, tmp_path: Path, stdin: Any) -> None:
    stdin(_answers(["weighing"]))  # Linux /dev/full: a file on a disk that is always full
    result = hengqi("run", "verification", "--manual", "--instrument", _header(tmp_path), "--tests", "weighing",
                    "--out", "/dev/full")  # fmt: skip
    line = result.refused("--out", "No space left on device", "printed above")
    assert line
    printed = result.out.split("--- record (not written to --out) ---", 1)[1]
    assert yaml.safe_load(printed)["tests"]["weighing"]


def test_out_is_written_whole_with_no_temporary_left(hengqi: Hengqi, tmp_path: Path, stdin: Any) -> None:
    out = tmp_path / "record.yaml"
    out.write_text("OLD", encoding="utf-8")
    stdin(_answers(["weighing"]))
    args = ("run", "verification", "--manual", "--instrument", _header(tmp_path), "--tests", "weighing", "--out", out)
    assert hengqi(*args).rc == 0
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["tests"]["weighing"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["header.yaml", "record.yaml"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
_VALID = {
    "format": "hengqi-run/1",
    "run_id": "r1",
    "kind": "verification",
    "parameters": {},
    "results": [{"step_id": "0:a", "kind": "prompt", "answer": None, "source": "operator", "by": "", "at": ""}],
    "cancelled_at": None,
    "status": "running",
    "version": 1,
    "created": "",
    "updated": "",
    "extra": {},
}


@given(key=st.sampled_from(sorted(_VALID)), value=_JSON)
@settings(max_examples=300, deadline=None)
def test_state_reader_answers_any_field_value_with_a_run_state_error(key: str, value: object) -> None:
    text = json.dumps({**_VALID, key: value})
    try:
        state = RunState.loads(text, source="s.json")
    except RunStateError as err:
        message = str(err)
    else:
        assert state.run_id == _VALID["run_id"] or key == "run_id"
        message = ""
    assert "\n" not in message


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_state_file_of_any_bytes_is_read_or_refused(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.json"
        path.write_bytes(data)
        with contextlib.suppress(RunStateError):  # refused (exit 2 from the CLI) or read: never another error
            JsonStateFile(path).load_only()
        assert path.read_bytes() == data


def test_closed_stdin_pauses_the_run_instead_of_crashing(
    hengqi: Hengqi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", None)  # what Python gives for `hengqi run ... <&-`
    state = tmp_path / "s.json"
    result = hengqi("run", "verification", "--manual", "--instrument", _header(tmp_path), "--state", state)
    assert result.rc == 1, result.err
    assert "input ended" in result.err
    assert json.loads(state.read_text(encoding="utf-8"))["results"] == []


@pytest.mark.parametrize("same_as", ["--state", "--instrument"])
def test_out_may_not_overwrite_the_runs_own_files(hengqi: Hengqi, tmp_path: Path, stdin: Any, same_as: str) -> None:
    header, state = _header(tmp_path), tmp_path / "s.json"
    out = state if same_as == "--state" else header
    before = header.read_bytes()
    stdin("")
    args = ("run", "verification", "--manual", "--instrument", header, "--state", state, "--out", out)
    hengqi(*args).refused("--out", f"also the {same_as} file")
    assert header.read_bytes() == before
    assert not state.exists()
