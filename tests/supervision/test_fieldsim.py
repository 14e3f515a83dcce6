"""The field simulator: deterministic, valid telemetry, and every tampering label visible in the data it labels."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from hengqi.cli import cli
from hengqi.errors import InputError
from hengqi.supervision.counters import counter_change
from hengqi.supervision.fieldsim import builtin_scenarios, field_files, parse_scenario, simulate_field
from hengqi.supervision.telemetry import (
    Counters,
    Identity,
    KeyPress,
    Passage,
    StateEvent,
    Transaction,
    ZeroSetting,
    parse_event,
)

SCENARIOS = {s.id: s for s in builtin_scenarios()}


def test_scenario_files_are_complete() -> None:
    assert set(SCENARIOS) == {
        "remote_resistor",
        "cheat_firmware",
        "stored_offset",
        "counter_without_work_order",
        "software_checksum_change",
        "case_opened",
        "wheel_off_platform",
        "tare_fraud",
        "braking_on_platform",
    }
    assert all(s.source and s.sha256 for s in SCENARIOS.values())
    with pytest.raises(InputError):
        parse_scenario({"id": "x", "applies_to": "moon", "label": "tamper", "description": "d"})


def _one(scenario: str, n: int = 3, seed: int = 5):  # type: ignore[no-untyped-def]
    data = simulate_field(n, seed=seed, days=1, scenarios=(SCENARIOS[scenario],), tamper_fraction=1.0)
    labels = [label for label in data.labels if label.scenario == scenario]
    assert labels, f"no {scenario} label"
    by_key = {(e.instrument, e.seq): e for e in data.events}
    return data, labels, by_key


def test_remote_resistor_is_a_jump_on_one_cell_between_the_axles() -> None:
    _data, labels, events = _one("remote_resistor")
    for label in labels:
        assert label.seqs
        for seq, detail in zip(label.seqs, label.details["passages"], strict=True):
            body = events[(label.instrument, seq)].body
            assert isinstance(body, Passage)
            cell = body.cells_kg[detail["cell"]]
            others = [sum(c[i] for j, c in enumerate(body.cells_kg) if j != detail["cell"]) for i in range(len(cell))]
            steps = [(cell[i + 1] - cell[i], abs(others[i + 1] - others[i])) for i in range(len(cell) - 1)]
            # switched on, then off, on this cell alone (the other cells do not move at that instant)
            assert any(up > 0.9 * detail["added_kg"] and still < 100 for up, still in steps)
            assert any(-down > 0.9 * detail["added_kg"] and still < 100 for down, still in steps)
            assert cell[0] < 100  # nothing on the platform before the vehicle
            assert cell[-1] < 100  # nor after it
            assert float(body.gross_kg) > detail["added_kg"]


def test_counter_changes_without_work_order_include_wraps() -> None:
    wrapped = 0
    for seed in range(6):
        data, labels, events = _one("counter_without_work_order", seed=seed)
        for label in labels:
            (seq,) = label.seqs
            body = events[(label.instrument, seq)].body
            assert isinstance(body, Counters)
            d = label.details
            change = counter_change(d["before"], d["after"], d["modulus"])
            assert change.steps >= 1
            assert not change.reset
            wrapped += change.wrapped
            assert d["across_wrap"] == change.wrapped
            assert all(
                w.opened_at > label.start or w.closed_at < label.start
                for w in data.work_orders
                if w.instrument == label.instrument
            )
    assert wrapped >= 1


def test_market_tricks_raise_the_weighings_they_label() -> None:
    for scenario in ("cheat_firmware", "stored_offset"):
        _data, labels, events = _one(scenario, n=2)
        for label in labels:
            added = Decimal(label.details["added_kg"])
            assert added > 0
            bodies = [events[(label.instrument, seq)].body for seq in label.seqs]
            assert any(isinstance(b, Transaction) for b in bodies)
            for seq in label.seqs:
                assert label.start - timedelta(seconds=3) <= events[(label.instrument, seq)].time <= label.end
            if scenario == "cheat_firmware":
                # the trace: hidden key presses, each raising the gross by the same step, before each weighing
                presses = [b for b in bodies if isinstance(b, KeyPress)]
                steps = {b.gross_after_kg - b.gross_before_kg for b in presses}
                assert steps == {Decimal("0.050")}
                assert len(presses) == label.details["presses"] * sum(isinstance(b, Transaction) for b in bodies)
            else:
                # the trace: the zero point set low by the offset at the start, and back at the end
                zeros = [b for b in bodies if isinstance(b, ZeroSetting)]
                assert zeros[0].source == zeros[-1].source == "key"
                assert abs(zeros[-1].offset_kg - zeros[0].offset_kg - added) <= Decimal("0.003")


def test_weighbridge_tricks_leave_their_trace_in_the_cells_and_curve() -> None:
    _data, labels, events = _one("wheel_off_platform", n=3, seed=3)
    for label in labels:
        for seq, detail in zip(label.seqs, label.details["passages"], strict=True):
            body = events[(label.instrument, seq)].body
            assert isinstance(body, Passage)
            cells = [np.asarray(c) for c in body.cells_kg]
            left, right = cells[0] + cells[2], cells[1] + cells[3]
            middle = len(body.curve_kg) // 2  # the whole vehicle is standing
            light = left if detail["side"] == "left" else right
            heavy = right if detail["side"] == "left" else left
            assert light[middle] < heavy[middle]
    _data, labels, events = _one("braking_on_platform", n=3, seed=3)
    for label in labels:
        for seq, detail in zip(label.seqs, label.details["passages"], strict=True):
            body = events[(label.instrument, seq)].body
            assert isinstance(body, Passage)
            assert 0.5 <= detail["standing_s"] <= 1.5
            curve = np.asarray(body.curve_kg)
            top = curve[curve >= 0.5 * curve.max()]
            assert np.ptp(top) > 0.02 * curve.max()  # the pitching shows


def test_dropped_events_leave_a_hole_in_the_seqs() -> None:
    data = simulate_field(30, seed=4, days=2, scenarios=(), tamper_fraction=0.0)
    drops = [label for label in data.labels if label.scenario == "events_dropped"]
    assert drops
    seqs: dict[str, set[int]] = {}
    for e in data.events:
        seqs.setdefault(e.instrument, set()).add(e.seq)
    for label in drops:
        (after,) = label.seqs
        missing = [q for q in range(after) if q not in seqs[label.instrument]]
        assert len(missing) == label.details["dropped"]
        assert label.label == "fault"


def test_case_opened_and_software_change_are_in_the_events() -> None:
    _d, labels, events = _one("case_opened", n=2)
    states = [events[(labels[0].instrument, s)].body for s in labels[0].seqs]
    assert [b.state for b in states if isinstance(b, StateEvent)] == [
        "case_opened",
        "self_lock",
        "case_closed",
        "unlock",
    ]
    _d, labels, events = _one("software_checksum_change", n=1)
    (seq,) = labels[0].seqs
    body = events[(labels[0].instrument, seq)].body
    assert isinstance(body, Identity)
    assert body.software_checksum == labels[0].details["after"] != labels[0].details["before"]


def test_same_seed_same_files_and_every_event_valid(tmp_path: Path) -> None:
    a = field_files(simulate_field(4, seed=11, days=1))
    b = field_files(simulate_field(4, seed=11, days=1))
    assert a == b
    assert field_files(simulate_field(4, seed=12, days=1))["events.jsonl"] != a["events.jsonl"]
    lines = a["events.jsonl"].decode().splitlines()
    for line in lines[:2000]:
        parse_event(json.loads(line))
    assert cli(["sim", "field", "--instruments", "3", "--seed", "1", "--days", "1", "--out", str(tmp_path / "f")]) == 0
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["instruments"] == 3
    assert manifest["seed"] == 1
    assert cli(["sim", "field", "--instruments", "3", "--out", "/proc/no/such"]) == 2
