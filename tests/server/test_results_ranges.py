"""The web results of a calibration of a multiple-range instrument (Max 6 / 15 kg, e = d = 2 / 5 g, class III): the
results table states the range and d each point was read in, as the certificate's PDF does, with the MPE of that
range (OIML R 76-1:2006 3.5.1 Table 6); the live results during a run take the MPE of the range the reading at load
named, without changing the steps (their fingerprints) of stored runs."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from tests.certificates.sample import ADMIN
from tests.procedures.test_calibration_ranges import _header
from tests.server.test_calibration_header_ranges import TWO_RANGES, _instrument

from hengqi.certificates.admin import admin_from_mapping
from hengqi.certificates.pdf.render import render_certificate_pdf
from hengqi.procedures.calibration import DEFINITION, normalise
from hengqi.procedures.instructions import step_as_json
from hengqi.procedures.session import Session
from hengqi.procedures.state import RunState
from hengqi.procedures.steps import ReadStable
from hengqi.server.db.models import Run
from hengqi.server.services.guided_certificates import calibration_result, result_summary
from hengqi.server.web.pages import mpe_function
from hengqi.server.web.results_view import error_table, point_intervals
from hengqi.server.web.runs import _live_rows, live_point_ranges, record_intervals

D = Decimal


def _example() -> tuple[dict[str, Any], Any, Run]:
    # as a run keeps it: JSON (the date as text)
    record = json.loads(json.dumps(yaml.safe_load(TWO_RANGES.read_text(encoding="utf-8")), default=str))
    result = calibration_result(record)
    run = Run(kind="calibration", raw_data={"record": record}, results=result_summary(result))
    return record, result, run


def _pdf_rows(result: Any, tmp_path: Path) -> list[list[str]]:
    """The rows of the PDF's errors table: load, m_ref, I, d, E, U, k, MPE, verdict (pdftotext -layout)."""
    item = {"serial_number": "PS15-20417", "max": "15 kg", "d": f"{result.instrument.d_kg} kg"}
    admin = admin_from_mapping({**ADMIN, "item": item, "conformity": {"stage": "initial"}})
    pdf = tmp_path / "two-range.pdf"
    pdf.write_bytes(render_certificate_pdf(result, admin, plot=False))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    loads = {"2.000", "5.000", "10.000", "15.000"}
    rows = [line.split() for line in text.splitlines() if line.split()[:1] and line.split()[0] in loads]
    return [row for row in rows if len(row) == 9]


def test_the_results_table_states_range_d_and_mpe_of_each_point_as_the_certificate(tmp_path: Path) -> None:
    _record, result, run = _example()
    intervals = record_intervals(run)
    assert intervals == point_intervals(result)
    table = error_table(run.results, D(15), D("0.002"), mpe_function(_instrument()), intervals)
    assert table.ranges
    assert table.error_unit == "g"
    shown = [(row.load, row.range, row.d, row.mpe) for row in table.rows]
    # R 76-1 Table 6, class III, initial: 2 kg = 1000 e1 -> 1 e1 = 2 g, = 400 e2 -> 0.5 e2 = 2.5 g;
    # 5 kg = 2500 e1 -> 1.5 e1 = 3 g, = 1000 e2 -> 1 e2 = 5 g; 10 kg = 2000 e2 -> 5 g; 15 kg = 3000 e2 -> 7.5 g
    assert shown == [
        ("2.000", "1", "2", "2"), ("2.000", "2", "5", "2.5"), ("5.000", "1", "2", "3"), ("5.000", "2", "5", "5"),
        ("10.000", "2", "5", "5"), ("10.000", "2", "5", "5"), ("15.000", "2", "5", "7.5"),
    ]  # fmt: skip
    # the same d, E, U, k and MPE, point by point, as the certificate's PDF (load, m_ref, I, d, E, U, k, MPE)
    pdf = _pdf_rows(result, tmp_path)
    assert len(pdf) == 7
    assert [(r[0], r[3], r[4], r[5], r[6], r[7]) for r in pdf] == [
        (row.load, row.d, row.error, row.U, row.k, row.mpe) for row in table.rows
    ]


def test_without_ranges_or_an_evaluable_record_no_d_is_shown() -> None:
    record, result, run = _example()
    single = {**run.results, "points": [{k: v for k, v in p.items() if k != "range"} for p in run.results["points"]]}
    assert record_intervals(Run(kind="calibration", raw_data={"record": record}, results=single)) == []
    table = error_table(single, D(15), D("0.002"), mpe_function(_instrument()), point_intervals(result))
    assert not table.ranges
    assert {(row.range, row.d) for row in table.rows} == {("", "")}
    broken = {**record, "points": "none"}  # a record the evaluation refuses: no guessed d
    assert record_intervals(Run(kind="calibration", raw_data={"record": broken}, results=run.results)) == []
    moved = [{**p, "range": 1} for p in run.results["points"]]  # kept results unlike the record's evaluation
    assert record_intervals(Run(kind="calibration", raw_data={"record": record}, results={"points": moved})) == []
    table = error_table(run.results, D(15), D("0.002"), mpe_function(_instrument()), [])
    assert {row.d for row in table.rows} == {"—"}  # range named, d unknown: said so
    assert [row.mpe for row in table.rows][:2] == ["2", "2.5"]


def _driven(options: dict[str, Any], header: dict[str, Any] | None = None) -> Session:
    record = _header() if header is None else header
    parameters = normalise({"record": record, "options": {"loads": ["2 kg", "5 kg", "10 kg", "15 kg"], **options}})
    session = Session(RunState.new("r1", "calibration", parameters), DEFINITION)
    while (pending := session.pending) is not None:
        answer = pending.step.load_kg if isinstance(pending.step, ReadStable) else None
        session.answer(pending.step_id, answer, source="operator", by="t", now="2026-12-07T08:00:00+00:00")
    return session


def test_live_results_take_the_mpe_of_the_range_of_their_reading() -> None:
    session = _driven({"decreasing": True, "conditions": False})
    assert live_point_ranges(session) == [1, 1, 2, 2, 2, 2, 2]
    rows = _live_rows(session, _instrument())
    # by load alone 5 kg (2500 e1) would be 3 g and 2 kg (1000 e1) 2 g; read in range 2: 5 g and 2.5 g
    assert [(r["label"], r["range"], r["mpe"]) for r in rows] == [
        ("2 kg", "1", "2 g"), ("5 kg", "1", "3 g"), ("10 kg", "2", "5 g"), ("15 kg", "2", "7.5 g"),
        ("10 kg", "2", "5 g"), ("5 kg", "2", "5 g"), ("2 kg", "2", "2.5 g"),
    ]  # fmt: skip
    assert rows[-1]["within"] is False  # U = 3.2 g > 2.5 g: judged against the range it was read in
    # the same in the results table of the finished run
    result = calibration_result(dict(session.product.record))
    table = error_table(result_summary(result), D(15), D("0.002"), mpe_function(_instrument()), [])
    by_point = sorted((r["label"].removesuffix(" kg"), r["range"], r["mpe"].removesuffix(" g")) for r in rows)
    assert by_point == sorted((row.load.removesuffix(".000"), row.range, row.mpe) for row in table.rows)


def test_the_steps_and_the_stored_run_are_unchanged_by_the_live_ranges() -> None:
    """The ranges are read from the answered steps when the page is shown: the state replays step for step, with
    the same step ids (fingerprints), and a run whose steps name no range keeps its MPE by load."""
    session = _driven({"decreasing": True, "conditions": False})
    stored = session.state.dumps()
    replayed = Session(RunState.loads(stored), DEFINITION)
    assert [r.step_id for r in replayed.state.results] == [r.step_id for r in session.state.results]
    assert _live_rows(replayed, _instrument()) == _live_rows(session, _instrument())
    assert all("range" not in value.as_json() for _key, value in session.live)  # LiveResult is as it was
    # a run started before the header carried the ranges (its steps name none): MPE by load, as it was shown
    header = _header()
    header["instrument"] = {k: v for k, v in header["instrument"].items() if k not in ("kind", "ranges")}
    old = _driven({"conditions": False}, header)
    assert all("range_in_use" not in step_as_json(step) for _i, step, _r in old.history if isinstance(step, ReadStable))
    assert live_point_ranges(old) == [None] * 4
    rows = _live_rows(old, _instrument())
    assert [(r["label"], r["range"], r["mpe"]) for r in rows] == [
        ("2 kg", "", "2 g"), ("5 kg", "", "3 g"), ("10 kg", "", "5 g"), ("15 kg", "", "7.5 g")
    ]  # fmt: skip
