"""OIML R 111-1:2004 weights: Table 1 MPEs, and the 1/3 adequacy check for test weights.

Table 1 is encoded here a second time, independently of ``hengqi.metrology.weights``: it is the published table
as transcribed in the shared reference ``standards.md`` section 2 (CONFIRMED by cross-check of a vendor sheet
"How to determine the necessary test weights - maximum tolerance for weights according to OIML R111:2004",
KERN's table, a Greek draft law and a copy of the table's header rows), in mg, "-" where the class is not
defined. Every cell, including every "-", is compared exactly (Decimal, no tolerance).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hengqi.errors import InputError, NotCoveredError
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.mpe import mpe
from hengqi.metrology.quantities import parse_mass
from hengqi.metrology.weights import (
    NOMINAL_VALUES_KG,
    CertifiedWeight,
    StandardWeight,
    WeightClass,
    weight_mpe,
    weight_mpe_mg,
    weights_adequate,
    weights_adequate_for,
)

# OIML R 111-1:2004, Table 1, maximum permissible errors +-delta m in mg, as published (transcribed).
R111_TABLE_1_MG = """
| Nominal | E1 | E2 | F1 | F2 | M1 | M1-2 | M2 | M2-3 | M3 |
| 5000 kg | - | - | 25000 | 80000 | 250000 | 500000 | 800000 | 1600000 | 2500000 |
| 2000 kg | - | - | 10000 | 30000 | 100000 | 200000 | 300000 | 600000 | 1000000 |
| 1000 kg | - | 1600 | 5000 | 16000 | 50000 | 100000 | 160000 | 300000 | 500000 |
| 500 kg | - | 800 | 2500 | 8000 | 25000 | 50000 | 80000 | 160000 | 250000 |
| 200 kg | - | 300 | 1000 | 3000 | 10000 | 20000 | 30000 | 60000 | 100000 |
| 100 kg | - | 160 | 500 | 1600 | 5000 | 10000 | 16000 | 30000 | 50000 |
| 50 kg | 25 | 80 | 250 | 800 | 2500 | 5000 | 8000 | 16000 | 25000 |
| 20 kg | 10 | 30 | 100 | 300 | 1000 | - | 3000 | - | 10000 |
| 10 kg | 5 | 16 | 50 | 160 | 500 | - | 1600 | - | 5000 |
| 5 kg | 2.5 | 8.0 | 25 | 80 | 250 | - | 800 | - | 2500 |
| 2 kg | 1.0 | 3.0 | 10 | 30 | 100 | - | 300 | - | 1000 |
| 1 kg | 0.5 | 1.6 | 5 | 16 | 50 | - | 160 | - | 500 |
| 500 g | 0.25 | 0.8 | 2.5 | 8.0 | 25 | - | 80 | - | 250 |
| 200 g | 0.1 | 0.3 | 1.0 | 3.0 | 10 | - | 30 | - | 100 |
| 100 g | 0.05 | 0.16 | 0.5 | 1.6 | 5 | - | 16 | - | 50 |
| 50 g | 0.03 | 0.1 | 0.3 | 1.0 | 3.0 | - | 10 | - | 30 |
| 20 g | 0.025 | 0.08 | 0.25 | 0.8 | 2.5 | - | 8.0 | - | 25 |
| 10 g | 0.02 | 0.06 | 0.2 | 0.6 | 2.0 | - | 6.0 | - | 20 |
| 5 g | 0.016 | 0.05 | 0.16 | 0.5 | 1.6 | - | 5.0 | - | 16 |
| 2 g | 0.012 | 0.04 | 0.12 | 0.4 | 1.2 | - | 4.0 | - | 12 |
| 1 g | 0.01 | 0.03 | 0.1 | 0.3 | 1.0 | - | 3.0 | - | 10 |
| 500 mg | 0.008 | 0.025 | 0.08 | 0.25 | 0.8 | - | 2.5 | - | - |
| 200 mg | 0.006 | 0.02 | 0.06 | 0.2 | 0.6 | - | 2.0 | - | - |
| 100 mg | 0.005 | 0.016 | 0.05 | 0.16 | 0.5 | - | 1.6 | - | - |
| 50 mg | 0.004 | 0.012 | 0.04 | 0.12 | 0.4 | - | - | - | - |
| 20 mg | 0.003 | 0.01 | 0.03 | 0.1 | 0.3 | - | - | - | - |
| 10 mg | 0.003 | 0.008 | 0.025 | 0.08 | 0.25 | - | - | - | - |
| 5 mg | 0.003 | 0.006 | 0.02 | 0.06 | 0.2 | - | - | - | - |
| 2 mg | 0.003 | 0.006 | 0.02 | 0.06 | 0.2 | - | - | - | - |
| 1 mg | 0.003 | 0.006 | 0.02 | 0.06 | 0.2 | - | - | - | - |
"""


def _published() -> list[tuple[str, str, str]]:
    rows = [line.strip().strip("|").split("|") for line in R111_TABLE_1_MG.strip().splitlines()]
    header = [cell.strip() for cell in rows[0]]
    assert header[0] == "Nominal"
    cells = []
    for row in rows[1:]:
        values = [cell.strip() for cell in row]
        cells.extend((values[0], cls, value) for cls, value in zip(header[1:], values[1:], strict=True))
    return cells


PUBLISHED = _published()


def test_the_transcription_is_complete() -> None:
    """30 nominal values (1 mg ... 5 000 kg) x 9 classes = 270 cells."""
    assert len(PUBLISHED) == 270
    assert len({nominal for nominal, _, _ in PUBLISHED}) == 30 == len(NOMINAL_VALUES_KG)


@pytest.mark.parametrize(("nominal", "cls", "cell"), PUBLISHED)
def test_every_cell_of_table_1(nominal: str, cls: str, cell: str) -> None:
    if cell == "-":
        with pytest.raises(NotCoveredError, match=f"class {cls} is not defined for") as info:
            weight_mpe(cls, nominal)
        assert "OIML R 111-1:2004, Table 1" in str(info.value)
    else:
        assert weight_mpe_mg(cls, nominal) == Decimal(cell)
        assert weight_mpe(cls, parse_mass(nominal)) == Decimal(cell) * Decimal("0.000001")


@pytest.mark.parametrize(
    ("cls", "nominal", "mg"),
    [("E2", "100 g", "0.16"), ("F1", "1 kg", "5"), ("M1", "20 kg", "1000"), ("M1-2", "50 kg", "5000"),
     ("M3", "5000 kg", "2500000")],
)  # fmt: skip
def test_reference_test_vectors(cls: str, nominal: str, mg: str) -> None:
    """standards.md section 2 test vectors."""
    assert weight_mpe_mg(cls, nominal) == Decimal(mg)


def test_structure_of_the_table() -> None:
    """M1-2 and M2-3 only 50 kg ... 5 000 kg; E1 up to 50 kg; E2 up to 1 000 kg; M2 from 100 mg; M3 from 1 g."""

    def defined(cls: str) -> list[Decimal]:
        return sorted(parse_mass(n) for n, c, v in PUBLISHED if c == cls and v != "-")

    assert defined("M1-2")[0] == Decimal(50)
    assert defined("M2-3")[0] == Decimal(50)
    assert defined("E1")[-1] == Decimal(50)
    assert defined("E2")[-1] == Decimal(1000)
    assert defined("M2")[0] == Decimal("0.0001")
    assert defined("M3")[0] == Decimal("0.001")
    for cls in ("E1", "E2", "F1", "F2", "M1"):
        assert defined(cls)[0] == Decimal("0.000001")


@pytest.mark.parametrize("nominal", ["3 g", "0.5 mg", "10000 kg", "250 g", "0 g"])
def test_nominal_values_outside_the_table(nominal: str) -> None:
    with pytest.raises(InputError) as info:
        weight_mpe("F1", nominal)
    assert info.value.path == "nominal"


def test_class_names() -> None:
    assert weight_mpe("m1_2", "100 kg") == weight_mpe(WeightClass.M1_2, Decimal(100))
    with pytest.raises(InputError, match="unknown weight class"):
        weight_mpe("F3", "1 g")


@given(st.sampled_from(list(WeightClass)), st.sampled_from(NOMINAL_VALUES_KG), st.sampled_from(NOMINAL_VALUES_KG))
def test_mpe_grows_with_nominal_and_class(cls: WeightClass, a: Decimal, b: Decimal) -> None:
    """Within a class a heavier weight never has a smaller MPE, and a coarser class never a smaller one."""
    small, large = sorted((a, b))
    try:
        low, high = weight_mpe(cls, small), weight_mpe(cls, large)
    except NotCoveredError:
        return
    assert low <= high
    order = list(WeightClass)
    for coarser in order[order.index(cls) + 1 :]:
        try:
            assert weight_mpe(coarser, small) >= low
        except NotCoveredError:
            continue


def test_one_third_rule_with_class_weights() -> None:
    """Class III, e = 5 g, 2.5 kg: MPE 2.5 g; M1 2 kg + 500 g: 100 + 25 mg = 0.125 g <= 2.5/3 g (SECONDARY rule)."""
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    weights = [StandardWeight.of("M1", "2 kg"), StandardWeight.of("M1", "500 g")]
    result = weights_adequate_for(weights, spec)
    assert result.instrument_mpe_kg == Decimal("0.0025")
    assert result.total_bound_kg == Decimal("0.000125")
    assert result.nominal_load_kg == result.load_kg == Decimal("2.5")
    assert result.adequate
    assert result.basis == "mpe"
    assert "SECONDARY" in result.rule
    coarse = weights_adequate([StandardWeight.of("M3", "2 kg"), StandardWeight.of("M3", "500 g")], Decimal("0.0025"))
    assert coarse.total_bound_kg == Decimal("0.00125")  # 1000 + 250 mg
    assert not coarse.adequate


def test_one_third_is_exact_at_the_edge() -> None:
    """3 x sum <= MPE exactly: a bound of exactly MPE/3 passes, any more fails (no rounding of MPE/3)."""
    weight = CertifiedWeight(Decimal(1), Decimal(0), Decimal("0.001"), Decimal(2))
    assert weights_adequate([weight], Decimal("0.003")).adequate
    assert not weights_adequate([weight], Decimal("0.0029999999999999999999999999999")).adequate


def test_one_third_rule_with_certificates() -> None:
    """Certified weights: reference = nominal + correction; bound = U rescaled to k = 2 (documented choice)."""
    weights = [
        CertifiedWeight(Decimal(10), Decimal("0.000020"), Decimal("0.000030"), Decimal(2)),
        CertifiedWeight(Decimal(5), Decimal("-0.000010"), Decimal("0.000030"), Decimal(3)),
    ]
    result = weights_adequate(weights, Decimal("0.0075"))
    assert result.load_kg == Decimal("15.000010")
    assert result.nominal_load_kg == Decimal(15)
    assert result.total_bound_kg == Decimal("0.000050")  # 30 + 30 x 2/3 mg
    assert result.basis == "certificate"
    assert result.adequate
    mixed = weights_adequate([weights[0], StandardWeight.of("M1", "5 kg")], Decimal("0.0075"))
    assert mixed.basis == "mixed"
    assert mixed.total_bound_kg == Decimal("0.000280")


def test_adequacy_bad_input() -> None:
    with pytest.raises(InputError, match="at least one weight"):
        weights_adequate([], Decimal(1))
    with pytest.raises(InputError, match="positive"):
        weights_adequate([StandardWeight.of("F1", "1 kg")], Decimal(0))
    with pytest.raises(InputError, match="negative"):
        CertifiedWeight(Decimal(1), Decimal(0), Decimal(-1))
    with pytest.raises(NotCoveredError):
        StandardWeight.of("E1", "100 kg")


@given(st.integers(min_value=1, max_value=3000))
def test_adequacy_verdict_matches_the_inequality(steps: int) -> None:
    """For a class III, e = 5 g scale and F2 weights: adequate exactly when 3 x sum(MPE) <= MPE(load)."""
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    load = steps * Decimal("0.005")
    pieces, rest = [], load
    for nominal in sorted(NOMINAL_VALUES_KG, reverse=True):
        while rest >= nominal >= Decimal("0.001"):
            pieces.append(StandardWeight.of("F2", nominal))
            rest -= nominal
    assert rest == 0
    result = weights_adequate_for(pieces, spec)
    assert result.adequate == (3 * sum(p.mpe_kg for p in pieces) <= mpe(load, spec))
