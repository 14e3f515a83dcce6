"""ADMIN.yaml validation (errors name field paths) and the conformity decision rule (guard band w = U)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.certificates.conftest import ADMIN_YAML
from tests.certificates.sample import ADMIN, sample_result

from hengqi.certificates.admin import admin_from_mapping, load_admin
from hengqi.certificates.conformity import assess_conformity, classify
from hengqi.errors import RecordError


def _with(path: str, value: Any) -> dict[str, Any]:
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in ADMIN.items()}
    head, _, tail = path.partition(".")
    if tail:
        data[head] = {**data[head], tail: value}
    else:
        data[head] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "where", "message"),
    [
        ("certificate.country", "China", "certificate.country", "should match pattern"),
        ("certificate.end_date", "2026-11-30", "certificate", "issue_date is before the end"),
        ("item.max", "220 furlongs", "item.max", "unknown mass unit"),
        ("item.serial_number", None, "item", "give serial_number or at least one identification"),
        ("laboratory.name", {"zh": "实验室"}, "laboratory.name", "English text"),
        ("persons", [{"name": "A"}, {"name": "B"}], "persons", "exactly one person must be main_signer"),
        ("statements", [{"text": "x", "conformity": "maybe"}], "statements[0].conformity", "Input should be"),
    ],
)
def test_errors_name_the_field(path: str, value: Any, where: str, message: str) -> None:
    data = _with(path, value)
    if value is None:
        data["item"].pop("serial_number")
    with pytest.raises(RecordError) as info:
        admin_from_mapping(data)
    assert info.value.path == where
    assert message in info.value.reason


def test_example_admin_loads_and_bad_files_are_record_errors(tmp_path: Path) -> None:
    admin = load_admin(ADMIN_YAML)
    assert admin.main_signer.name == "Li Wei"
    assert admin.item.max_kg == Decimal("0.220")
    assert admin.item.accuracy_class == "I"
    with pytest.raises(RecordError, match="no such file"):
        load_admin(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("certificate: [unclosed")
    with pytest.raises(RecordError, match="not valid YAML"):
        load_admin(bad)
    bad.write_text("- a list")
    with pytest.raises(RecordError, match="mapping at the top level"):
        load_admin(bad)


@pytest.mark.parametrize(
    ("error", "u", "mpe", "status"),
    [
        ("0.0004", 0.0001, "0.0005", "pass"),  # |E| + U = MPE exactly: pass
        ("-0.0004", 0.00011, "0.0005", "conditionalPass"),
        ("0.0005", 0.0002, "0.0005", "conditionalPass"),  # |E| = MPE
        ("0.0006", 0.0001, "0.0005", "conditionalFail"),  # |E| - U = MPE exactly
        ("-0.00061", 0.0001, "0.0005", "fail"),
    ],
)
def test_decision_rule_boundaries(error: str, u: float, mpe: str, status: str) -> None:
    assert classify(Decimal(error), u, Decimal(mpe)) == status


@given(
    st.decimals(min_value=-1, max_value=1, places=6),
    st.floats(min_value=0, max_value=1),
    st.decimals(min_value=0, max_value=1, places=6),
)
def test_a_larger_uncertainty_never_improves_the_verdict(error: Decimal, u: float, mpe: Decimal) -> None:
    order = ["pass", "conditionalPass", "conditionalFail", "fail"]
    a, b = classify(error, u, mpe), classify(error, u * 2, mpe)
    if a in ("pass", "conditionalPass"):
        assert b in ("pass", "conditionalPass")  # within the MPE stays within
    else:
        assert order.index(b) <= order.index(a)


def test_assessment_uses_r76_mpe_for_class_i() -> None:
    """Sample balance class I, e = 1 mg: MPE 0.5 mg up to 50 g, 1 mg up to 200 g (R 76-1:2006, Table 6)."""
    a = assess_conformity(sample_result())
    assert a is not None
    assert [p.mpe_kg for p in a.points] == [Decimal("5E-7"), Decimal("5E-7"), Decimal("0.000001"), Decimal("0.000001")]
    assert a.status == "pass"
    in_service = assess_conformity(sample_result(), stage="in-service")
    assert in_service is not None
    assert next(p.mpe_kg for p in in_service.points) == Decimal("0.000001")
