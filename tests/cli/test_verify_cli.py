"""``hengqi verify`` and ``hengqi schema``: reports, JSON contract, exit codes, and bad input as one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hengqi.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "verification"
PASSING = EXAMPLES / "retail-scale-class-iii-pass.yaml"
FAILING = EXAMPLES / "balance-class-ii-eccentricity-fail.yaml"

GOOD = """\
format: hengqi.verification-record
version: 1
instrument:
  id: S-1
  specification: {class: III, max: 15 kg, e: 5 g}
operator: A. Inspector
date: 2026-11-25
tests:
  weighing:
    points:
      - {load: 100 g, indication: 100 g}
      - {load: 5 kg, indication: 5.000 kg}
"""


def test_passing_example_exits_0_with_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["verify", str(PASSING)]) == 0
    out = capsys.readouterr().out
    assert "VERDICT: PASS" in out
    for test in ("weighing", "eccentricity", "repeatability", "discrimination", "zero-setting", "tare"):
        assert test in out
    assert "SHOP-0042" in out


def test_failing_example_exits_1_and_lists_failing_point(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["verify", str(FAILING)]) == 1
    out = capsys.readouterr().out
    assert "VERDICT: FAIL" in out
    failing = out[out.index("failing point") :]
    assert "eccentricity, front-right: load 2050 g: E = +0.21 g exceeds MPE ±0.15 g" in failing
    assert "A.4.7" in failing


def test_stage_override(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["verify", str(FAILING), "--stage", "in-service", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["stage"] == "in-service"
    assert doc["verdict"] == "pass"


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["verify", str(FAILING), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "fail"
    assert doc["rules"] == "oiml-r76"
    assert doc["stage"] == "subsequent"
    assert doc["instrument"]["id"] == "LAB-QC-07"
    assert doc["instrument"]["e_kg"] == 0.0001
    test = doc["tests"][0]
    assert set(test) >= {"name", "verdict", "points"}
    point = test["points"][0]
    assert set(point) >= {"load_kg", "indication_kg", "error_kg", "corrected_error_kg", "mpe_kg", "verdict", "rule"}
    assert all(isinstance(p["load_kg"], float) for t in doc["tests"] for p in t["points"])
    assert doc["failing_points"][0]["mpe_kg"] == 0.00015


def test_rules_override_jjg539(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["verify", str(PASSING), "--rules", "jjg539", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rules"] == "jjg539"
    assert "JJG 539" in doc["tests"][0]["points"][0]["rule"]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_examples_exit_code_matches_expected_verdict(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = "pass" if "Expected verdict: PASS" in path.read_text(encoding="utf-8") else "fail"
    assert cli(["verify", str(path)]) == (0 if expected == "pass" else 1)
    assert f"VERDICT: {expected.upper()}" in capsys.readouterr().out


# -- bad input: exit 2, one line naming the field path and the reason, never a traceback -------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("format: x\nversion: [1\n", r"bad.yaml: line 3, column 1: "),
        (GOOD.replace("indication: 5.000 kg", "indication: 5.000 kgs"),
         "tests.weighing.points[1].indication: unknown mass unit 'kgs'"),
        (GOOD.replace("load: 5 kg", "load: -5 kg"), "tests.weighing.points[1].load: must not be negative"),
        (GOOD.replace("load: 5 kg", "load: five kg"), "tests.weighing.points[1].load: expected a mass"),
        (GOOD.replace("load: 5 kg", "load: 5"), "tests.weighing.points[1].load: a mass needs a unit"),
        (GOOD.replace("operator: A. Inspector\n", ""), "operator: required field is missing"),
        (GOOD.replace("max: 15 kg", "max: 150 kg"),
         "instrument.specification.max: n = Max/e = 30000 exceeds 10000 for class III"),
        (GOOD.replace("load: 5 kg", "load: 20 kg"), "tests.weighing.points[1].load: 20 kg is above Max + 9 e"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    assert cli(["verify", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "Traceback" not in captured.err
    assert lines[0].startswith("hengqi: error: ")
    assert expected in lines[0]
    assert captured.out == ""


def test_bad_options_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["verify", str(PASSING), "--rules", "hb44"]) == 2
    assert "--rules: unknown rule set 'hb44'" in capsys.readouterr().err
    assert cli(["verify", str(PASSING), "--stage", "yearly"]) == 2
    assert "--stage: unknown stage 'yearly'" in capsys.readouterr().err
    assert cli(["verify", str(tmp_path / "none.yaml")]) == 2
    assert "none.yaml: no such file" in capsys.readouterr().err


def test_schema_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["schema", "verification-record"]) == 0
    printed = capsys.readouterr().out
    assert printed == (ROOT / "docs/schemas/verification-record.schema.json").read_text(encoding="utf-8")
    assert json.loads(printed)["title"] == "VerificationRecord"
    assert cli(["schema"]) == 0
    assert "verification-record" in capsys.readouterr().out.splitlines()
    out = tmp_path / "s.json"
    assert cli(["schema", "verification-record", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == printed
    assert cli(["schema", "no-such-kind"]) == 2
    assert "unknown record kind 'no-such-kind'" in capsys.readouterr().err
