"""``hengqi run``: a guided run at the terminal, answers piped into stdin (``--manual``), resumable with --state.

The answers an operator would type are found by running the same plan against a virtual balance
(:mod:`hengqi.procedures.simulate`); the record the command writes must then be the record of that simulation.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from hengqi.cli import cli
from hengqi.metrology.quantities import to_unit
from hengqi.procedures.calibration import calibration_plan
from hengqi.procedures.calibration import normalise as normalise_calibration
from hengqi.procedures.simulate import VirtualBalance, simulate
from hengqi.procedures.steps import Decide, FindChangeover, ReadStable, Record
from hengqi.procedures.verification import normalise as normalise_verification
from hengqi.procedures.verification import verification_plan
from hengqi.records.verification import evaluate, load_verification_record

ROOT = Path(__file__).resolve().parents[2]
D = Decimal

HEADER = {
    "instrument": {"id": "S-1", "specification": {"class": "III", "max": "15 kg", "e": "5 g", "supports": 4}},
    "operator": "A. Inspector",
    "date": "2026-11-25",
}
CAL_HEADER = {
    "instrument": {"id": "B-1", "max": "220 g", "d": "0.1 mg"},
    "weights": [
        {"id": "W200", "class": "E2", "nominal": "200 g"},
        {"id": "W100", "class": "E2", "nominal": "100 g"},
        {"id": "W20", "class": "E2", "nominal": "20 g", "quantity": 2},
    ],
    "date": "2026-11-25",
}


def _lines(simulation: Any) -> list[str]:
    """What an operator types for each step (values in g, the unit a bare number counts), shutdown included."""
    lines = []
    for message in simulation.messages:
        step = message.step
        if isinstance(step, Record):
            continue
        if isinstance(step, ReadStable | FindChangeover):
            lines.append(format(to_unit(message.answer, "g").normalize(), "f"))
        elif isinstance(step, Decide):
            lines.append(message.answer)
        else:
            lines.append("")
    return [*lines, ""]  # the shutdown step that follows the plan: remove all loads


def _spec(tmp_path: Path, header: dict[str, Any]) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(header), encoding="utf-8")
    return path


def _cli(monkeypatch: pytest.MonkeyPatch, argv: list[str], lines: list[str]) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(line + "\n" for line in lines)))
    return cli(argv)


def _verification_lines(balance: VirtualBalance, tests: list[str]) -> tuple[list[str], Any]:
    parameters = normalise_verification({"record": HEADER, "options": {"tests": tests}})
    simulation = simulate(verification_plan(parameters), balance.respond)
    return _lines(simulation), simulation


def test_a_manual_verification_from_piped_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines, simulation = _verification_lines(VirtualBalance(D("0.005")), ["weighing", "discrimination"])
    out = tmp_path / "record.yaml"
    argv = ["run", "verification", "--instrument", str(_spec(tmp_path, HEADER)), "--manual",
            "--tests", "weighing,discrimination", "--out", str(out), "--language", "en"]  # fmt: skip
    assert _cli(monkeypatch, argv, lines) == 0
    printed = capsys.readouterr().out
    assert "Place 15 kg on the load receptor" in printed
    assert "verdict: pass" in printed
    assert "without --state" in printed
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert written["tests"] == json.loads(json.dumps(simulation.product.record["tests"]))
    assert evaluate(load_verification_record(out)).verdict.value == "pass"


def test_a_failing_verification_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    balance = VirtualBalance(D("0.005"), error=lambda load, position: load * D("0.002"), decisions=("stop",))
    lines, _ = _verification_lines(balance, ["weighing"])
    argv = ["run", "verification", "--instrument", str(_spec(tmp_path, HEADER)), "--manual", "--tests", "weighing",
            "--out", str(tmp_path / "r.yaml")]  # fmt: skip
    assert _cli(monkeypatch, argv, lines) == 1
    assert evaluate(load_verification_record(tmp_path / "r.yaml")).verdict.value == "fail"


def test_end_of_input_pauses_and_state_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines, simulation = _verification_lines(VirtualBalance(D("0.005")), ["weighing"])
    state = tmp_path / "run.json"
    out = tmp_path / "record.yaml"
    argv = ["run", "verification", "--instrument", str(_spec(tmp_path, HEADER)), "--manual", "--tests", "weighing",
            "--state", str(state), "--out", str(out)]  # fmt: skip
    assert _cli(monkeypatch, argv, lines[:7]) == 1
    assert "resume with --state" in capsys.readouterr().err
    assert len(json.loads(state.read_text(encoding="utf-8"))["results"]) == 7
    assert not out.exists()
    resume = ["run", "verification", "--manual", "--state", str(state), "--out", str(out)]
    assert _cli(monkeypatch, resume, lines[7:]) == 0
    assert "resuming verification run" in capsys.readouterr().out
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["tests"] == json.loads(
        json.dumps(simulation.product.record["tests"])
    )


def test_cancel_ends_the_run_after_the_shutdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "verification", "--instrument", str(_spec(tmp_path, HEADER)), "--manual"]
    assert _cli(monkeypatch, argv, ["", "cancel", ""]) == 1
    out = capsys.readouterr().out
    assert "run cancelled" in out
    assert out.count("Remove all loads") == 2  # the plan's own step, then the shutdown


def test_a_manual_calibration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parameters = normalise_calibration({"record": CAL_HEADER, "options": {"loads": ["20 g", "100 g", "200 g"]}})
    balance = VirtualBalance(D("0.0000001"), error=lambda load, position: load * D("0.000001"))
    simulation = simulate(calibration_plan(parameters), balance.respond)
    out = tmp_path / "cal.yaml"
    argv = ["run", "calibration", "--instrument", str(_spec(tmp_path, CAL_HEADER)), "--manual",
            "--loads", "20 g,100 g,200 g", "--out", str(out)]  # fmt: skip
    assert _cli(monkeypatch, argv, _lines(simulation)) == 0
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert [p["indication"] for p in written["points"]] == ["20 g", "100.0001 g", "200.0002 g"]  # d = 0.1 mg


def test_calibration_reading_a_simulated_instrument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--scale: every indication comes from the instrument (nobody puts loads on it here: all read zero)."""
    from hengqi.instruments.simulator import Imperfections, Simulator

    with Simulator.start("mt-sics", imperfections=Imperfections(settling_s=0.0)) as simulator:
        argv = ["run", "calibration", "--instrument", str(_spec(tmp_path, CAL_HEADER)), "--scale", simulator.url,
                "--loads", "100 g", "--out", str(tmp_path / "cal.yaml")]  # fmt: skip
        # all indications zero: the error curve cannot be determined; the record is written all the same
        assert _cli(monkeypatch, argv, [""] * 40) == 1
    written = yaml.safe_load((tmp_path / "cal.yaml").read_text(encoding="utf-8"))
    assert written["points"][0]["indication"] == "0 kg"
    out = capsys.readouterr().out
    assert "could not be evaluated" in out
    assert "value (in" not in out  # nothing was typed in: every indication came from the instrument


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "verification", "--instrument", "{spec}"], "--scale"),
        (["run", "verification", "--instrument", "{spec}", "--manual", "--scale", "tcp://x"], "--scale"),
        (["run", "verification", "--manual"], "--instrument"),
        (["run", "verification", "--instrument", "{missing}", "--manual"], "no such file"),
        (["run", "verification", "--instrument", "{spec}", "--manual", "--tests", "tare"], "options.tests[0]"),
        (["run", "calibration", "--instrument", "{spec}", "--manual", "--tests", "weighing"], "--tests"),
        (["run", "verification", "--instrument", "{spec}", "--manual", "--unit", "parsec"], "--unit"),
        (["run", "verification", "--instrument", "{nameless}", "--manual"], "--operator"),
        (["run", "calibration", "--instrument", "{spec}", "--manual", "--state", "{state}"], "verification run"),
        (["run", "verification", "--instrument", "{spec}", "--manual", "--state", "{broken}"], "not valid JSON"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    spec = _spec(tmp_path, HEADER)
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text(yaml.safe_dump({"id": "S-2", "specification": HEADER["instrument"]["specification"]}))
    state = tmp_path / "state.json"
    assert _cli(monkeypatch, ["run", "verification", "--instrument", str(spec), "--manual", "--state", str(state)],
                [""]) == 1  # fmt: skip
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    names = {"spec": spec, "missing": tmp_path / "nope.yaml", "nameless": nameless, "state": state, "broken": broken}
    capsys.readouterr()
    assert _cli(monkeypatch, [arg.format(**names) for arg in argv], []) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_the_installed_command_with_a_real_pipe(tmp_path: Path) -> None:
    spec = _spec(tmp_path, HEADER)
    state = tmp_path / "run.json"
    command = [sys.executable, "-c", "from hengqi.cli import main; main()", "run", "verification",
               "--instrument", str(spec), "--manual", "--state", str(state), "--language", "zh"]  # fmt: skip
    done = subprocess.run(command, input="\n\n\n", capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    assert done.returncode == 1
    assert "检定 S-1" in done.stdout
    assert "resume with --state" in done.stderr
    assert len(json.loads(state.read_text(encoding="utf-8"))["results"]) == 3
