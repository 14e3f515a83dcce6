"""``hengqi mpe``, ``hengqi weights mpe`` and ``hengqi rules``: exit codes, JSON keys, one-line errors."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from hengqi.cli import cli

MPE_KEYS = {"mpe_kg", "load_kg", "e_kg", "load_in_e", "class", "stage", "rules", "rule"}


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert cli(argv) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out, parse_float=Decimal)
    return data


def test_mpe_json_with_a_checked_specification(capsys: pytest.CaptureFixture[str]) -> None:
    """ScaleSaathi example (SECONDARY), R 76-1 Table 6: class III, e = 5 g, 2 505 g = 501 e -> 5 g."""
    data = _json(capsys, ["mpe", "--class", "III", "--e", "5 g", "--load", "2.505 kg", "--max", "15 kg", "--json"])
    assert set(data) >= MPE_KEYS
    assert data["mpe_kg"] == Decimal("0.005")
    assert data["load_kg"] == Decimal("2.505")
    assert data["e_kg"] == Decimal("0.005")
    assert data["load_in_e"] == 501
    assert (data["class"], data["stage"], data["rules"]) == ("III", "initial", "oiml-r76")
    assert "OIML R 76-1:2006, 3.5.1, Table 6" in data["rule"]
    assert data["spec_checked"] is True
    assert data["n"] == 3000


def test_mpe_json_in_service_without_max(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["mpe", "--class", "III", "--e", "5 g", "--load", "2.5 kg", "--stage", "in-service", "--json"])
    assert data["mpe_kg"] == Decimal("0.005")  # 500 e -> 2 x 0.5 e
    assert data["spec_checked"] is False
    assert "3.5.2" in data["rule"]


def test_mpe_jjg539(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["mpe", "--class", "IIII", "--e", "10 g", "--load", "2.01 kg", "--rules", "jjg539", "--json"]
    data = _json(capsys, [*argv, "--stage", "in-service"])
    assert data["mpe_kg"] == Decimal("0.03")  # 201 e: 1.5 e initial, 3.0 e in use (JJG 539-1997, SECONDARY)
    assert data["rules"] == "jjg539"


def test_mpe_readable_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["mpe", "--class", "III", "--e", "5 g", "--load", "2.5 kg"]) == 0
    out = capsys.readouterr().out
    assert "2.5 g" in out
    assert "not checked" in out
    assert cli(["mpe", "--class", "III", "--e", "5 g", "--load", "2.5 kg", "--max", "15 kg"]) == 0
    out = capsys.readouterr().out
    assert "checked against its class" in out
    assert "100 g" in out  # Min


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["mpe", "--e", "5 g", "--load", "1 kg"], "--class"),
        (["mpe", "--class", "V", "--e", "5 g", "--load", "1 kg"], "--class"),
        (["mpe", "--class", "III", "--load", "1 kg"], "--e"),
        (["mpe", "--class", "III", "--e", "5 g"], "--load"),
        (["mpe", "--class", "III", "--e", "5 g", "--load", "-1 kg"], "--load"),
        (["mpe", "--class", "III", "--e", "5 g", "--load", "heavy"], "--load"),
        (["mpe", "--class", "III", "--e", "5 g", "--load", "16 kg", "--max", "15 kg"], "--load"),
        (["mpe", "--class", "III", "--e", "5 g", "--load", "1 kg", "--max", "100 kg"], "--max"),
        (["mpe", "--class", "III", "--e", "3 g", "--load", "1 kg", "--max", "15 kg"], "--e"),
        (["mpe", "--class", "III", "--e", "3 g", "--load", "1 kg"], "--e"),  # class and e alone: same rule
        (["mpe", "--class", "I", "--e", "0.25 mg", "--load", "10 g"], "--e"),
        (["mpe", "--class", "III", "--e", "5 g", "--load", "1 kg", "--max", "15 kg", "--min", "50 g"], "--min"),
        (["mpe", "--class", "III", "--e", "5 g", "--load", "1 kg", "--max", "15 kg", "--d", "1 g"], "--d"),
        (["mpe", "--class", "III", "--e", "5 g", "--load", "1 kg", "--d", "1 g"], "--d"),
        (["mpe", "--class", "III", "--e", "5 g", "--load", "1 kg", "--stage", "final"], "--stage"),
        (["mpe", "--class", "III", "--e", "5 g", "--load", "1 kg", "--rules", "hb44"], "--rules"),
        (["mpe", "--class", "II", "--e", "1 g", "--load", "1 kg", "--rules", "jjg539"], "--class"),
        (["weights", "mpe", "--class", "F3", "--nominal", "1 g"], "--class"),
        (["weights", "mpe", "--class", "F1", "--nominal", "3 g"], "--nominal"),
        (["weights", "mpe", "--class", "M3", "--nominal", "100 mg"], "--nominal"),
        (["weights", "mpe", "--class", "F1"], "--nominal"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], option: str) -> None:
    assert cli(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"hengqi: error: {option}: "), lines[0]
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_mpe_multi_interval_and_multiple_range(capsys: pytest.CaptureFixture[str]) -> None:
    """UKWF examples (class III assumed, reference 1.3); MPE with e(i) of the range in use (NOT confirmed)."""
    multi = ["--kind", "multi-interval", "--range", "6 kg/2 g", "--range", "15 kg/5 g", "--range", "30 kg/10 g"]
    data = _json(capsys, ["mpe", "--class", "III", *multi, "--load", "10.005 kg", "--json"])
    assert (data["e_kg"], data["load_in_e"], data["mpe_kg"]) == (Decimal("0.005"), 2001, Decimal("0.0075"))
    assert (data["kind"], data["range"], data["min_kg"]) == ("multi-interval", 2, Decimal("0.04"))
    multiple = ["--kind", "multiple-range", "--range", "30 kg/10 g", "--range", "60 kg/20 g", "--range", "150 kg/50 g"]
    data = _json(capsys, ["mpe", "--class", "III", *multiple, "--load", "5 kg", "--json"])
    assert (data["range"], data["mpe_kg"]) == (1, Decimal("0.005"))
    data = _json(capsys, ["mpe", "--class", "III", *multiple, "--load", "5 kg", "--use-range", "3", "--json"])
    assert (data["range"], data["mpe_kg"]) == (3, Decimal("0.025"))
    assert cli(["mpe", "--class", "III", *multi, "--load", "20 kg"]) == 0
    assert "range 3 used" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--range", "6 kg/2 g", "--range", "15 kg/5 g"], "--kind"),
        (["--kind", "multi-interval", "--range", "6 kg/5 g", "--range", "15 kg/2 g"], "--range"),
        (["--kind", "multi-interval", "--range", "6 kg", "--range", "15 kg/5 g"], "--range"),
        (["--kind", "multi-interval", "--range", "6 kg/2 g"], "--range"),
        (["--kind", "multiple-range"], "--kind"),
        (
            ["--kind", "multiple-range", "--range", "6 kg/2 g", "--range", "15 kg/5 g", "--use-range", "3"],
            "--use-range",
        ),
        (["--e", "5 g", "--use-range", "1"], "--use-range"),
        (
            ["--kind", "multiple-range", "--range", "6 kg/2 g", "--range", "15 kg/5 g", "--use-range", "x"],
            "--use-range",
        ),
        (
            ["--kind", "multiple-range", "--range", "6 kg/2 g", "--range", "15 kg/5 g", "--use-range", "0"],
            "--use-range",
        ),
    ],
)
def test_range_options_refused(capsys: pytest.CaptureFixture[str], extra: list[str], option: str) -> None:
    assert cli(["mpe", "--class", "III", "--load", "1 kg", *extra]) == 2
    assert capsys.readouterr().err.startswith(f"hengqi: error: {option}: ")


def test_weights_mpe_json(capsys: pytest.CaptureFixture[str]) -> None:
    """OIML R 111-1:2004 Table 1: F1 100 g -> 0.5 mg."""
    data = _json(capsys, ["weights", "mpe", "--class", "F1", "--nominal", "100 g", "--json"])
    assert {"mpe_kg", "mpe_mg", "class", "nominal_kg"} <= set(data)
    assert data["mpe_mg"] == Decimal("0.5")
    assert data["mpe_kg"] == Decimal("5e-07")
    assert (data["class"], data["nominal_kg"]) == ("F1", Decimal("0.1"))


def test_weights_mpe_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["weights", "mpe", "--class", "m1-2", "--nominal", "50 kg"]) == 0
    out = capsys.readouterr().out
    assert "5000 mg" in out
    assert "R 111-1:2004" in out


def test_rules(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["rules", "--json"])
    by_id = {entry["id"]: entry for entry in data["rule_sets"]}
    assert set(by_id) >= {"oiml-r76", "jjg539"}
    assert by_id["oiml-r76"]["confidence"] == "CONFIRMED"
    assert by_id["jjg539"]["confidence"] == "SECONDARY"
    assert by_id["jjg539"]["classes"] == ["III", "IIII"]
    assert by_id["oiml-r76"]["stages"]["in-service"] == 2
    assert by_id["oiml-r76"]["bands"]["III"] == [[500, Decimal("0.5")], [2000, Decimal("1.0")], [10000, Decimal("1.5")]]
    assert by_id["oiml-r76"]["bands"]["I"][-1][0] is None
    assert any("NOT FOUND" in note for note in by_id["jjg539"]["notes"])
    assert cli(["rules"]) == 0
    out = capsys.readouterr().out
    assert "oiml-r76" in out
    assert "jjg539" in out


def test_e_without_max_names_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    """e must be 1, 2 or 5 x 10^k also when only class and e are given (R 76-1:2006 / Directive Annex I 2.2.1)."""
    assert cli(["mpe", "--class", "III", "--e", "3 g", "--load", "1 kg"]) == 2
    err = capsys.readouterr().err
    assert "1, 2 or 5 x 10^k" in err
    assert "2.2.1" in err
