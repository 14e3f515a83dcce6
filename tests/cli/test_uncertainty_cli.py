"""``hengqi uncertainty``: JSON contract, text report, plot, and one-line errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hengqi.cli import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "uncertainty"
S2 = str(EXAMPLES / "ea-4-02-s2-weight.yaml")


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert cli(argv) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["uncertainty", S2, "--mc", "50000", "--seed", "5", "--json"])
    assert set(data["gum"]) >= {"value", "u", "dof", "k", "U", "interval"}
    assert set(data["mcm"]) >= {"value", "u", "interval_symmetric", "interval_shortest", "trials", "seed"}
    assert {"budget", "validation"} <= set(data)
    gum, mcm = data["gum"], data["mcm"]
    assert gum["value"] == pytest.approx(10000.025, abs=1e-9)
    assert gum["u"] == pytest.approx(0.0291465, abs=1e-6)
    assert gum["dof"] is None  # infinite
    assert gum["k"] == pytest.approx(2.0, abs=1e-3)
    assert mcm["trials"] == 50000
    assert mcm["seed"] == 5
    assert mcm["u"] == pytest.approx(gum["u"], rel=0.02)
    assert mcm["interval_symmetric"][0] < mcm["value"] < mcm["interval_symmetric"][1]
    assert [row["name"] for row in data["budget"]] == ["m_S", "dm_D", "dm", "dm_C", "dB"]
    assert data["budget"][0]["u_y"] == pytest.approx(0.0225)
    assert set(data["validation"]) >= {"d_low", "d_high", "tolerance", "validated"}
    assert data["unit"] == "g"


def test_same_seed_same_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["uncertainty", S2, "--mc", "20000", "--seed", "9", "--json"]
    assert _json(capsys, argv) == _json(capsys, argv)


def test_seed_from_the_file_and_adaptive_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["uncertainty", str(EXAMPLES / "jcgm101-9.3-mass.yaml"), "--adaptive", "1", "--json"])
    assert data["mcm"]["adaptive"] is True
    assert data["mcm"]["seed"] == 1013
    assert data["mcm"]["n_dig"] == 1
    assert data["mcm"]["converged"] is True
    assert data["validation"]["validated"] is False  # JCGM 101:2008, 9.3: the GUF is not validated


def test_text_report_shows_budget_both_methods_and_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["uncertainty", str(EXAMPLES / "jcgm101-9.2-additive.yaml"), "--mc", "40000", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    for text in ("Uncertainty budget of Y", "GUF (JCGM 100)", "MCM (JCGM 101)", "shortest", "not validated", "X4"):
        assert text in out


def test_plot_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "h.png"
    assert cli(["uncertainty", S2, "--mc", "20000", "--seed", "1", "--plot", str(target)]) == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("model: a\ninputs:\n  - {name: a, distribution: gamma, mean: 1, u: 1}", "inputs[0]: Input tag 'gamma'"),
        ("model: a\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: -1}", "inputs[0].u"),
        ("model: a + b\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1}", "undefined name 'b'"),
        (
            "model: a + b\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1}\n"
            "  - {name: b, distribution: normal, mean: 1, u: 1}\n"
            "correlations:\n  - {between: [a, b], r: 1}",
            "not positive definite",
        ),
        ("model: [a\n", "line"),
        (
            "model: a\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1}\n"
            "  - {name: z, distribution: normal, mean: 1, u: 1}",
            "inputs[1].name: input 'z' is not used by the model",
        ),
        (
            "model: open('x')\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1}",
            "function 'open' is not allowed",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, match: str
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("format: hengqi.uncertainty-model\nversion: 1\n" + body, encoding="utf-8")
    assert cli(["uncertainty", str(path), "--mc", "1000"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert match in err
    assert "Traceback" not in err


def test_option_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["uncertainty", S2, "--mc", "1000", "--adaptive", "2"]) == 2
    assert "either --mc or --adaptive" in capsys.readouterr().err
    assert cli(["uncertainty", str(tmp_path / "missing.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli(["uncertainty", S2, "--mc", "10"]) == 2
    capsys.readouterr()
