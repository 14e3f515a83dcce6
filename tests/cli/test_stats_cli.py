"""``hengqi stats``: pass rates from CSV/JSON files, sampling plans, one-line refusals of bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hengqi.cli import cli
from hengqi.supervision.sampling import attribute_plan, conformance_plan
from hengqi.supervision.statistics import pass_rate

ROWS = [
    {"passed": "true", "maker": "A", "date": "2026-01-05"},
    {"passed": "fail", "maker": "A", "date": "2026-01-20"},
    {"passed": "1", "maker": "B", "date": "2026-02-01"},
    {"passed": "yes", "maker": "B", "date": "2026-02-03"},
    {"passed": "0", "maker": "B", "date": "2026-02-04"},
]


def _csv(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "v.csv"
    lines = [",".join(rows[0])] + [",".join(r.values()) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert cli(argv) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_pass_rate_from_csv_and_json_agree_with_the_library(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["stats", "pass-rate", str(_csv(tmp_path, ROWS)), "--group-by", "maker", "--json"])
    records = [{**r, "passed": r["passed"] in ("true", "1", "yes")} for r in ROWS]
    expected = {dict(g.key)["maker"]: g.interval for g in pass_rate(records, group_by=("maker",))}
    assert data["overall"]["count"] == 3
    assert data["overall"]["total"] == 5
    for row in data["groups"]:
        i = expected[row["key"]["maker"]]
        assert (row["count"], row["total"], row["lower"], row["upper"]) == (i.successes, i.trials, i.lower, i.upper)
    as_json = tmp_path / "v.json"
    as_json.write_text(json.dumps([{**r, "passed": r["passed"] in ("true", "1", "yes")} for r in ROWS]))
    again = _json(capsys, ["stats", "pass-rate", str(as_json), "--group-by", "maker", "--json"])
    assert again == data
    by_month = _json(capsys, ["stats", "pass-rate", str(as_json), "--group-by", "month", "--json"])
    assert [g["key"]["month"] for g in by_month["groups"]] == ["2026-01", "2026-02"]


def test_pass_rate_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, ROWS)
    assert cli(["stats", "pass-rate", str(path), "--method", "clopper-pearson"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("overall: 3/5 = 60.0% [")
    assert "clopper-pearson" in out


@pytest.mark.parametrize(
    ("content", "name", "needle"),
    [
        ("passed,maker\nmaybe,A\n", "v.csv", "'passed' must be"),
        ("maker\nA\n", "v.csv", "has no 'passed' field"),
        ("{not json", "v.json", "not valid JSON"),
        ('{"passed": true}', "v.json", "JSON list of objects"),
        ("[" * 100_000 + "]" * 100_000, "v.json", "v.json"),
        ('[{"passed": true}]', "v.json", "maker: missing from a record"),
    ],
)
def test_bad_files_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, name: str, needle: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    assert cli(["stats", "pass-rate", str(path), "--group-by", "maker"]) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1


def test_missing_file_and_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["stats", "pass-rate", str(tmp_path / "absent.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err
    path = _csv(tmp_path, ROWS)
    assert cli(["stats", "pass-rate", str(path), "--group-by", "maker,maker"]) == 2
    assert "only once" in capsys.readouterr().err
    assert cli(["stats", "pass-rate", str(path), "--confidence", "1"]) == 2
    capsys.readouterr()
    assert cli(["stats", "plan", "--aql", "0.05", "--lq", "0.01"]) == 2
    assert "must exceed the AQL" in capsys.readouterr().err


def test_plans_match_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["stats", "plan", "--aql", "0.01", "--lq", "0.05", "--lot-size", "1000", "--json"])
    p = attribute_plan(0.01, 0.05, lot_size=1000)
    assert (data["n"], data["c"], data["method"]) == (p.n, p.c, p.method)
    c = _json(capsys, ["stats", "conformance", "--failures", "1", "--json"])
    q = conformance_plan(0.95, 0.95, acceptance_number=1)
    assert (c["n"], c["c"]) == (q.n, q.c)
