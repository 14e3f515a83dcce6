"""Accuracy classes and instrument specifications (OIML R 76-1:2006 Table 3 = Directive Annex I Table 1/2).

Vectors are the DERIVED test vectors of the shared reference ``standards.md`` 1.1 (single interval) and 1.3
(multi-interval, UK Weighing Federation example assumed class III); all comparisons are exact (Decimal), no
tolerance.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hengqi.errors import InputError, NotCoveredError, SpecificationError
from hengqi.metrology.classes import (
    AccuracyClass,
    InstrumentKind,
    InstrumentSpecification,
    PartialRange,
    is_one_two_five,
    validate_specification,
)

G = Decimal("0.001")

# standards.md 1.1 DERIVED test vectors: class, Max (g), e (g), n, valid, Min lower limit (g) or fragment of why not
REFERENCE_1_1 = [
    ("III", "15000", "5", 3000, True, "100"),
    ("III", "100000", "5", 20000, False, "exceeds 10000"),
    ("III", "1000", "5", 200, False, "below 500"),
    ("III", "200", "1", 200, True, "20"),
    ("II", "220", "0.001", 220000, False, "exceeds 100000"),
    ("II", "6200", "0.1", 62000, True, "5.0"),
    ("II", "300", "0.1", 3000, False, "below 5000"),
    ("IIII", "1000000", "1000", 1000, True, "10000"),
    ("I", "220", "0.001", 220000, True, "0.1"),  # Min = 100 e = 0.1 g
]


@pytest.mark.parametrize(("cls", "max_g", "e_g", "n", "valid", "expected"), REFERENCE_1_1)
def test_reference_1_1_vectors(cls: str, max_g: str, e_g: str, n: int, valid: bool, expected: str) -> None:  # noqa: PLR0917
    """standards.md 1.1 DERIVED vectors (table look-ups of R 76-1 Table 3), exact."""
    if valid:
        spec = InstrumentSpecification.create(accuracy_class=cls, max=f"{max_g} g", e=f"{e_g} g")
        assert spec.n == n
        assert spec.min_kg == Decimal(expected) * G
        assert spec.kind is InstrumentKind.SINGLE_INTERVAL
        assert spec.d_kg == spec.e_kg
    else:
        with pytest.raises(SpecificationError, match=expected) as info:
            InstrumentSpecification.create(accuracy_class=cls, max=f"{max_g} g", e=f"{e_g} g")
        assert info.value.path == "max"
        assert "Table 3" in info.value.rule


@pytest.mark.parametrize(
    ("cls", "e_g", "n_min", "n_max"),
    [
        ("I", "0.001", 50_000, None),
        ("II", "0.001", 100, 100_000),
        ("II", "0.05", 100, 100_000),
        ("II", "0.1", 5_000, 100_000),
        ("III", "0.1", 100, 10_000),
        ("III", "2", 100, 10_000),
        ("III", "5", 500, 10_000),
        ("IIII", "5", 100, 1_000),
    ],
)
def test_table_3_n_limits_are_inclusive(cls: str, e_g: str, n_min: int, n_max: int | None) -> None:
    """R 76-1 Table 3: n limits inclusive ("All e bounds and n limits are inclusive", reference 1.1)."""
    e = Decimal(e_g) * G
    assert InstrumentSpecification.create(accuracy_class=cls, max=n_min * e, e=e).n == n_min
    with pytest.raises(SpecificationError, match="below"):
        InstrumentSpecification.create(accuracy_class=cls, max=(n_min - 1) * e, e=e)
    if n_max is not None:
        assert InstrumentSpecification.create(accuracy_class=cls, max=n_max * e, e=e).n == n_max
        with pytest.raises(SpecificationError, match="exceeds"):
            InstrumentSpecification.create(accuracy_class=cls, max=(n_max + 1) * e, e=e)


@pytest.mark.parametrize(
    ("cls", "e_g", "fragment"),
    [("II", "0.0005", "outside class II"), ("III", "0.05", "outside class III"), ("IIII", "2", "outside class IIII")],
)
def test_e_outside_the_class_is_refused(cls: str, e_g: str, fragment: str) -> None:
    e = Decimal(e_g) * G
    with pytest.raises(SpecificationError, match=fragment) as info:
        InstrumentSpecification.create(accuracy_class=cls, max=1000 * e, e=e)
    assert info.value.path == "e"
    assert info.value.rule.startswith("OIML R 76-1:2006, Table 3")


@pytest.mark.parametrize(
    ("cls", "factor", "e_g", "n"),
    [("I", 100, "0.001", 60_000), ("II", 20, "0.01", 60_000), ("III", 20, "5", 3_000), ("IIII", 10, "5", 800)],
)
def test_min_lower_limit_and_declared_min(cls: str, factor: int, e_g: str, n: int) -> None:
    """R 76-1 Table 3 Min lower limit (100 e / 20 e / 20 e / 10 e); a declared Min may be higher, never lower."""
    e = Decimal(e_g) * G
    max_kg = n * e
    spec = InstrumentSpecification.create(accuracy_class=cls, max=max_kg, e=e)
    assert spec.min_kg == factor * e
    above = InstrumentSpecification.create(accuracy_class=cls, max=max_kg, e=e, min=(factor + 5) * e)
    assert above.min_kg == (factor + 5) * e
    with pytest.raises(SpecificationError, match="lower limit") as info:
        InstrumentSpecification.create(accuracy_class=cls, max=max_kg, e=e, min=(factor - 1) * e)
    assert info.value.path == "min"
    assert "Min lower limit" in info.value.rule


def test_class_ii_coarse_e_needs_50_e() -> None:
    """R 76-1 Table 3, class II with 0.1 g <= e: Min lower limit 50 e (reference 1.1: 6 200 g / 0.1 g -> 5.0 g)."""
    spec = InstrumentSpecification.create(accuracy_class="II", max="6200 g", e="0.1 g")
    assert spec.min_kg == Decimal("0.005")
    with pytest.raises(SpecificationError, match="lower limit"):
        InstrumentSpecification.create(accuracy_class="II", max="6200 g", e="0.1 g", min="4.9 g")


@pytest.mark.parametrize("e", ["3 g", "0.25 g", "20.5 g"])
def test_e_must_be_one_two_five(e: str) -> None:
    with pytest.raises(SpecificationError, match="not 1, 2 or 5") as info:
        InstrumentSpecification.create(accuracy_class="III", max="15 kg", e=e)
    assert "2.2.1" in info.value.rule


def test_auxiliary_device_rules() -> None:
    """Directive Annex I 2.2.2, 2.2.3, 3.1 (= R 76-1): d = e, or e = 10^k g and d < e <= 10 d, classes I/II."""
    spec = InstrumentSpecification.create(accuracy_class="II", max="220 g", e="0.01 g", d="0.001 g")
    assert spec.has_auxiliary_device
    assert spec.min_kg == 20 * Decimal("0.001") * G  # Min read with d for e (Directive 3.1)
    assert spec.d_at(Decimal("0.1")) == Decimal("0.001") * G
    with pytest.raises(SpecificationError, match="larger than e") as info:
        InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g", d="10 g")
    assert "2.2.2" in info.value.rule
    with pytest.raises(SpecificationError, match="not allowed in class III") as info:
        InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="10 g", d="5 g")
    assert "3.1" in info.value.rule
    with pytest.raises(SpecificationError, match="1 x 10\\^k g") as info:
        InstrumentSpecification.create(accuracy_class="II", max="220 g", e="0.02 g", d="0.01 g")
    assert "2.2.3" in info.value.rule
    with pytest.raises(SpecificationError, match="exceeds 10 d"):
        InstrumentSpecification.create(accuracy_class="II", max="220 g", e="0.01 g", d="0.0005 g")


def test_class_i_fine_d_exception() -> None:
    """Directive 2.2.3 / 3.1: class I with d < 10^-4 g has e = 10^-3 g and Max may be below 50 000 e."""
    spec = InstrumentSpecification.create(accuracy_class="I", max="5 g", e="0.001 g", d="0.00001 g")
    assert spec.n == 5000  # below 50 000 allowed
    assert spec.min_kg == 100 * Decimal("0.00001") * G
    with pytest.raises(SpecificationError, match=r"must have e = 0\.001 g"):
        InstrumentSpecification.create(accuracy_class="I", max="500 g", e="0.01 g", d="0.00001 g")
    with pytest.raises(SpecificationError, match="below 50000"):  # d = 10^-4 g: no exception
        InstrumentSpecification.create(accuracy_class="I", max="5 g", e="0.001 g", d="0.0001 g")


def test_max_indication_is_max_plus_9e() -> None:
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    assert spec.max_indication_kg == Decimal("15.045")
    assert spec.e_at(Decimal("15.045")) == Decimal("0.005")
    with pytest.raises(NotCoveredError, match="Max \\+ 9 e"):
        spec.e_at(Decimal("15.045001"))
    with pytest.raises(InputError, match="negative"):
        spec.e_at(Decimal("-0.001"))


UKWF_MULTI_INTERVAL = [("6 kg", "2 g"), ("15 kg", "5 g"), ("30 kg", "10 g")]


def test_reference_1_3_multi_interval_vector() -> None:
    """standards.md 1.3 DERIVED (UKWF multi-interval example assumed class III): Min = 20 e1 = 40 g, valid."""
    spec = InstrumentSpecification.create(accuracy_class="III", kind="multi-interval", ranges=UKWF_MULTI_INTERVAL)
    assert spec.min_kg == Decimal("0.040")
    assert spec.max_kg == Decimal(30)
    assert spec.e_kg == Decimal("0.002")
    assert spec.n == 3000  # Max/e(r)
    assert spec.max_indication_kg == Decimal("30.090")
    # partial range i holds Max(i-1) < load <= Max(i)
    assert spec.e_at(Decimal(0)) == Decimal("0.002")
    assert spec.e_at(Decimal(6)) == Decimal("0.002")
    assert spec.e_at(Decimal("6.001")) == Decimal("0.005")
    assert spec.e_at(Decimal(15)) == Decimal("0.005")
    assert spec.e_at(Decimal("15.01")) == Decimal("0.010")
    assert spec.e_at(Decimal("30.09")) == Decimal("0.010")
    assert spec.d_at(Decimal(20)) == Decimal("0.010")


@pytest.mark.parametrize(
    ("ranges", "fragment", "path"),
    [
        ([("6 kg", "5 g"), ("15 kg", "2 g")], "must be larger than e1", "ranges[1].e"),
        ([("1 kg", "2 g"), ("15 kg", "5 g")], "Max1/e2 = 200 is below 500", "ranges[0].max"),
        ([("30 kg", "2 g"), ("60 kg", "5 g")], "Max1/e1 = 15000 exceeds 10000", "ranges[0].max"),
        ([("6 kg", "2 g"), ("200 kg", "10 g")], "n = Max/e = 20000 exceeds 10000", "ranges[1].max"),
        ([("6 kg", "2 g"), ("6 kg", "5 g")], "Max2 must be larger than Max1", "ranges[1].max"),
        ([("6 kg", "2 g"), ("15 kg", "3 g")], "not 1, 2 or 5", "ranges[1].e"),
    ],
)
def test_multi_interval_refusals_name_table_2(ranges: list[tuple[str, str]], fragment: str, path: str) -> None:
    with pytest.raises(SpecificationError, match=fragment.replace("+", "\\+")) as info:
        InstrumentSpecification.create(accuracy_class="III", kind="multi-interval", ranges=ranges)
    assert info.value.path == path
    assert "OIML R 76-1:2006" in info.value.rule


def test_multi_interval_last_range_uses_table_1_with_e_r() -> None:
    """Table 2 note (1): for i = r Table 1 applies with e(r); class IIII needs Max/e(r) >= 100 (Table 2 says 50)."""
    ok = InstrumentSpecification.create(
        accuracy_class="IIII", kind="multi-interval", ranges=[("1 kg", "5 g"), ("2 kg", "20 g")]
    )
    assert ok.n == 100
    with pytest.raises(SpecificationError, match="n = Max/e = 75 is below 100") as info:
        InstrumentSpecification.create(
            accuracy_class="IIII", kind="multi-interval", ranges=[("1 kg", "5 g"), ("1.5 kg", "20 g")]
        )
    assert "note (1)" in info.value.rule
    assert info.value.path == "ranges[1].max"


def test_multi_interval_has_no_auxiliary_device() -> None:
    with pytest.raises(SpecificationError, match="auxiliary") as info:
        InstrumentSpecification.create(accuracy_class="II", kind="multi-interval", d="0.001 g",
                                       ranges=[("600 g", "0.01 g"), ("3000 g", "0.1 g")])  # fmt: skip
    assert "3.3" in info.value.rule


def test_multiple_range_each_range_on_its_own() -> None:
    """Directive Annex I 3.2: multiple ranges, each classified by Table 1 (UKWF example, class III assumed)."""
    ranges = [("30 kg", "10 g"), ("60 kg", "20 g"), ("150 kg", "50 g")]
    spec = InstrumentSpecification.create(accuracy_class="III", kind="multiple-range", ranges=ranges)
    assert spec.min_kg == Decimal("0.200")  # 20 e1
    assert spec.e_at(Decimal(30)) == Decimal("0.010")
    assert spec.e_at(Decimal("30.01")) == Decimal("0.020")
    assert spec.range_at(Decimal(10), 2) == (2, PartialRange(Decimal(150), Decimal("0.050")))
    with pytest.raises(NotCoveredError, match="range 1"):
        spec.range_at(Decimal(31), 0)
    with pytest.raises(SpecificationError, match="below 500") as info:
        InstrumentSpecification.create(
            accuracy_class="III", kind="multiple-range", ranges=[("30 kg", "10 g"), ("60 kg", "200 g")]
        )
    assert "3.2" in info.value.rule
    assert info.value.path == "ranges[1].max"
    with pytest.raises(InputError, match="increasing Max"):
        InstrumentSpecification.create(
            accuracy_class="III", kind="multiple-range", ranges=[("30 kg", "10 g"), ("1 kg", "20 g")]
        )


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"accuracy_class": "V", "max": "1 kg", "e": "1 g"}, "accuracy_class"),
        ({"accuracy_class": "III", "max": "0 kg", "e": "1 g"}, "max"),
        ({"accuracy_class": "III", "e": "1 g"}, "max"),
        ({"accuracy_class": "III", "max": "1 kg"}, "e"),
        ({"accuracy_class": "III", "max": "1 kg", "e": "1 furlong"}, "e"),
        ({"accuracy_class": "III", "max": "1 kg", "e": "1 g", "kind": "linear"}, "kind"),
        ({"accuracy_class": "III", "ranges": [("1 kg", "1 g"), ("2 kg", "2 g")]}, "kind"),
        ({"accuracy_class": "III", "kind": "multi-interval", "ranges": [("1 kg", "1 g")]}, "ranges"),
        ({"accuracy_class": "III", "max": "1 kg", "e": "1 g", "min": "2 kg"}, "min"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(InputError) as info:
        InstrumentSpecification.create(**kwargs)  # type: ignore[arg-type]
    assert info.value.path == path


def test_direct_construction_is_validated() -> None:
    ok = InstrumentSpecification(AccuracyClass.III, Decimal(15), Decimal("0.005"), Decimal("0.005"), Decimal("0.1"))
    assert ok.ranges == (PartialRange(Decimal(15), Decimal("0.005")),)
    validate_specification(ok)
    with pytest.raises(SpecificationError, match="lower limit"):
        InstrumentSpecification(AccuracyClass.III, Decimal(15), Decimal("0.005"), Decimal("0.005"), Decimal("0.05"))


def test_class_names_as_written() -> None:
    assert (
        InstrumentSpecification.create(accuracy_class="iii", max="15 kg", e="5 g").accuracy_class is AccuracyClass.III
    )
    assert InstrumentSpecification.create(accuracy_class="3", max=Decimal(15), e=Decimal("0.005")).n == 3000


@given(st.integers(min_value=-12, max_value=6), st.sampled_from([1, 2, 5]))
def test_one_two_five_form(k: int, digit: int) -> None:
    value = Decimal(digit).scaleb(k)
    assert is_one_two_five(value)
    assert not is_one_two_five(value * 3)
    assert not is_one_two_five(-value)


@given(
    st.sampled_from(["III", "IIII"]),
    st.sampled_from(["5", "10", "20", "50", "100"]),
    st.integers(min_value=1, max_value=20_000),
)
def test_n_limits_property(cls: str, e_g: str, n: int) -> None:
    """Any (class, e, n) is accepted exactly when Table 3's inclusive n limits hold."""
    e = Decimal(e_g) * G
    low, high = (500, 10_000) if cls == "III" else (100, 1_000)
    if low <= n <= high:
        assert InstrumentSpecification.create(accuracy_class=cls, max=n * e, e=e).n == n
    else:
        with pytest.raises(SpecificationError):
            InstrumentSpecification.create(accuracy_class=cls, max=n * e, e=e)
