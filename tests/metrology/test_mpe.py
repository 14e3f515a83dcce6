"""MPE of non-automatic weighing instruments (OIML R 76-1:2006, 3.5.1 Table 6, 3.5.2) and rule sets.

Sources reproduced (all exact Decimal comparisons, no tolerance):
- shared reference ``standards.md`` 1.2, DERIVED boundary vectors of R 76-1 Table 6 (every band edge, every class);
- in service = 2 x initial (R 76-1 3.5.2; CONFIRMED);
- ScaleSaathi worked example (SECONDARY): class III, e = 5 g: 2 500 g -> +-2.5 g, 2 505 g -> +-5 g;
- JJG 539-1997 bands via a forum transcription (SECONDARY, reference section 6): +-0.5/1.0/1.5 e initial and
  subsequent, +-1.0/2.0/3.0 e in use.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hengqi.errors import InputError, NotCoveredError, RuleSetError, SpecificationError
from hengqi.metrology.classes import AccuracyClass, InstrumentSpecification
from hengqi.metrology.mpe import Stage, determine_mpe, mpe, mpe_for_interval, mpe_in_e
from hengqi.metrology.rulesets import (
    JJG_539,
    OIML_R76,
    get_rule_set,
    register_rule_set,
    rule_set_from_mapping,
    rule_sets,
    unregister_rule_set,
)

# standards.md 1.2 DERIVED boundary vectors: m (in e) -> initial MPE (in e)
TABLE_6_VECTORS = {
    "I": [(0, "0.5"), (50_000, "0.5"), (50_001, "1.0"), (200_000, "1.0"), (200_001, "1.5")],
    "II": [(0, "0.5"), (5_000, "0.5"), (5_001, "1.0"), (20_000, "1.0"), (20_001, "1.5"), (100_000, "1.5")],
    "III": [(0, "0.5"), (500, "0.5"), (501, "1.0"), (2_000, "1.0"), (2_001, "1.5"), (10_000, "1.5")],
    "IIII": [(0, "0.5"), (50, "0.5"), (51, "1.0"), (200, "1.0"), (201, "1.5"), (1_000, "1.5")],
}
VECTORS = [(cls, m, Decimal(value)) for cls, rows in TABLE_6_VECTORS.items() for m, value in rows]


@pytest.mark.parametrize(("cls", "m", "expected"), VECTORS)
def test_table_6_boundary_vectors(cls: str, m: int, expected: Decimal) -> None:
    """R 76-1 Table 6 (reference 1.2): initial = subsequent = table, in service = 2 x table."""
    assert mpe_in_e(m, cls) == expected
    assert mpe_in_e(m, cls, Stage.SUBSEQUENT) == expected
    assert mpe_in_e(m, cls, Stage.IN_SERVICE) == 2 * expected
    assert mpe_in_e(Decimal(m), cls, "in-service", "oiml-r76") == 2 * expected


@pytest.mark.parametrize(("cls", "m", "expected"), [v for v in VECTORS if v[0] in ("III", "IIII")])
def test_jjg539_bands(cls: str, m: int, expected: Decimal) -> None:
    """JJG 539-1997 (SECONDARY): same bands; +-0.5/1.0/1.5 e initial and subsequent, +-1.0/2.0/3.0 e in use."""
    assert mpe_in_e(m, cls, "initial", "jjg539") == expected
    assert mpe_in_e(m, cls, "subsequent", "jjg539") == expected
    assert mpe_in_e(m, cls, "in-service", "jjg539") == 2 * expected
    assert mpe_in_e(m, cls, "in-service", "jjg539") in (Decimal("1.0"), Decimal("2.0"), Decimal("3.0"))


def test_jjg539_covers_classes_iii_and_iiii_only() -> None:
    with pytest.raises(RuleSetError, match="does not cover class I "):
        mpe_in_e(10, "I", rules="jjg539")
    assert JJG_539.confidence == "SECONDARY"
    assert any("2016" in note and "NOT FOUND" in note for note in JJG_539.notes)


def test_scalesaathi_example() -> None:
    """ScaleSaathi (SECONDARY): class III, e = 5 g; 2 500 g = 500 e -> +-2.5 g; 2 505 g = 501 e -> +-5 g."""
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    assert mpe(Decimal("2.5"), spec) == Decimal("0.0025")
    assert mpe(Decimal("2.505"), spec) == Decimal("0.005")
    assert mpe(Decimal("2.505"), spec, stage=Stage.IN_SERVICE) == Decimal("0.010")
    found = determine_mpe("2505 g", spec)
    assert (found.load_in_e, found.mpe_e, found.spec_checked) == (Decimal(501), Decimal("1.0"), True)
    assert "3.5.1, Table 6" in found.rule
    assert "3.5.2" in determine_mpe("2505 g", spec, stage="in-service").rule


def test_class_i_top_band_is_open() -> None:
    assert mpe_in_e(10**9, "I") == Decimal("1.5")


def test_overrange_without_a_specification() -> None:
    """Table 3 caps n at Table 6's top edge; Max + 9 e may be indicated, so 9 e beyond it is covered."""
    assert mpe_in_e(10_009, "III") == Decimal("1.5")
    with pytest.raises(NotCoveredError, match="beyond"):
        mpe_in_e(10_010, "III")
    assert mpe_for_interval("50.045 kg", "III", "5 g").mpe_kg == Decimal("0.0075")


def test_edges_exact_and_e_of_the_form_1_2_5_without_a_specification() -> None:
    """e = 2 g (no spec check): 1 kg is exactly 500 e; a hair above takes the next band, never rounded down.
    An e such as 3 g is refused even without Max (R 76-1:2006 / Directive 2014/31/EU Annex I 2.2.1)."""
    assert mpe_for_interval(Decimal("1"), "III", Decimal("0.002")).mpe_e == Decimal("0.5")
    hair = Decimal("1.000000000000000000000000000001")
    assert mpe_for_interval(hair, "III", Decimal("0.002")).mpe_e == Decimal("1.0")
    with pytest.raises(SpecificationError, match="1, 2 or 5 x 10") as caught:
        mpe_for_interval(Decimal("1.5"), "III", Decimal("0.003"))
    assert caught.value.path == "e"
    assert "2.2.1" in caught.value.rule


def test_loads_outside_the_instrument() -> None:
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    assert mpe(Decimal("15.045"), spec) == Decimal("0.0075")
    with pytest.raises(NotCoveredError, match="Max \\+ 9 e"):
        mpe(Decimal("15.050"), spec)
    with pytest.raises(InputError, match="negative") as info:
        mpe(Decimal("-0.005"), spec)
    assert info.value.path == "load"
    with pytest.raises(InputError, match="negative"):
        mpe_in_e(-1, "III")


def test_multi_interval_uses_e_of_the_partial_range() -> None:
    """Per-range e(i) for the MPE: plausible, NOT confirmed (R 76-1 3.3 not found); UKWF example, class III."""
    spec = InstrumentSpecification.create(
        accuracy_class="III", kind="multi-interval", ranges=[("6 kg", "2 g"), ("15 kg", "5 g"), ("30 kg", "10 g")]
    )
    assert mpe(Decimal(1), spec) == Decimal("0.001")  # 500 e1 -> 0.5 e1
    assert mpe(Decimal("1.002"), spec) == Decimal("0.002")  # 501 e1 -> 1.0 e1
    assert mpe(Decimal(6), spec) == Decimal("0.003")  # 3000 e1 -> 1.5 e1
    assert mpe(Decimal("6.005"), spec) == Decimal("0.005")  # 1201 e2 -> 1.0 e2
    assert mpe(Decimal("10.005"), spec) == Decimal("0.0075")  # 2001 e2 -> 1.5 e2
    assert mpe(Decimal(30), spec) == Decimal("0.015")  # 3000 e3 -> 1.5 e3
    assert determine_mpe(Decimal(20), spec).range_index == 2


def test_multiple_range_uses_the_range_in_use() -> None:
    spec = InstrumentSpecification.create(
        accuracy_class="III", kind="multiple-range", ranges=[("30 kg", "10 g"), ("60 kg", "20 g"), ("150 kg", "50 g")]
    )
    assert mpe(Decimal(5), spec) == Decimal("0.005")  # 500 e1
    assert mpe(Decimal(5), spec, range_index=2) == Decimal("0.025")  # 100 e3, range named
    assert mpe(Decimal(40), spec) == Decimal("0.020")  # range 2: 2000 e2 -> 1.0 e2
    with pytest.raises(InputError, match="no range 4"):
        mpe(Decimal(5), spec, range_index=3)


def test_unknown_rule_set_lists_the_known_ones() -> None:
    with pytest.raises(RuleSetError, match=r"unknown rule set 'hb44' \(known: jjg539, oiml-r76") as info:
        get_rule_set("hb44")
    assert info.value.path == "rules"
    with pytest.raises(RuleSetError, match="unknown stage"):
        mpe_in_e(1, "III", "final")


# A clearly fictional rule set, to prove a national set can be added as data. Not real HB44 numbers.
FICTIONAL = {
    "id": "test-fictional-ruritania",
    "title": "Ruritanian scales act (FICTIONAL, for tests only)",
    "document": "Ruritania RWA",
    "edition": "0",
    "confidence": "FICTIONAL",
    "citations": {"bands": "RWA 0, table R (fictional)", "in-service": "RWA 0, s. 9 (fictional)"},
    "bands": {
        "III": [{"up_to_e": 100, "mpe_e": "1"}, {"up_to_e": "1000", "mpe_e": "2"}, {"up_to_e": None, "mpe_e": "4"}],
        "IIII": [[10, 1], [None, 3]],
    },
    "stages": {"initial": 1, "in-service": "3"},
    "edge": "upper",
    "notes": ["invented for a test"],
}


def test_a_rule_set_from_data_is_used_without_touching_the_engine() -> None:
    rule_set = register_rule_set(rule_set_from_mapping(FICTIONAL))
    try:
        assert rule_set in rule_sets()
        assert get_rule_set("test-fictional-ruritania") is rule_set
        assert mpe_in_e(99, "III", rules="test-fictional-ruritania") == 1
        assert mpe_in_e(100, "III", rules="test-fictional-ruritania") == 2  # edge "upper": edge load goes up
        assert mpe_in_e(10**6, "III", "in-service", "test-fictional-ruritania") == 12
        spec = InstrumentSpecification.create(accuracy_class="IIII", max="500 kg", e="1 kg")
        assert mpe(Decimal(10), spec, rules="test-fictional-ruritania") == Decimal(3)
        assert "RWA 0, s. 9" in determine_mpe(Decimal(10), spec, stage="in-service", rules=rule_set).rule
        with pytest.raises(RuleSetError, match="does not cover stage subsequent"):
            mpe(Decimal(10), spec, stage="subsequent", rules=rule_set)
        with pytest.raises(RuleSetError, match="already registered"):
            register_rule_set(rule_set)
    finally:
        unregister_rule_set("test-fictional-ruritania")
    with pytest.raises(RuleSetError, match="unknown rule set"):
        get_rule_set("test-fictional-ruritania")


def test_built_in_rule_sets_cannot_be_replaced() -> None:
    with pytest.raises(RuleSetError, match="built-in"):
        register_rule_set(rule_set_from_mapping({**FICTIONAL, "id": "oiml-r76"}), replace=True)
    with pytest.raises(RuleSetError, match="built-in"):
        unregister_rule_set("jjg539")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"id": "Bad Id"}, "id"),
        ({"title": ""}, "title"),
        ({"bands": {"V": [[None, 1]]}}, "bands.V"),
        ({"bands": {"III": [[100, "2"], [50, "3"]]}}, "bands.III[1].up_to_e"),
        ({"bands": {"III": [[100, "2"], [None, "1"]]}}, "bands.III[1].mpe_e"),
        ({"bands": {"III": [[None, "2"], [100, "3"]]}}, "bands.III[0].up_to_e"),
        ({"bands": {"III": [[100, "x"]]}}, "bands.III[0].mpe_e"),
        ({"bands": {"III": [[100, True]]}}, "bands.III[0].mpe_e"),
        ({"stages": {"later": 1}}, "stages.later"),
        ({"stages": {"initial": 0}}, "stages.initial"),
        ({"edge": "middle"}, "edge"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_malformed_rule_set_data_names_the_field(change: dict[str, object], path: str) -> None:
    with pytest.raises(RuleSetError) as info:
        rule_set_from_mapping({**FICTIONAL, **change})
    assert info.value.path == path


RULES = ("oiml-r76", "jjg539")
CLASS_RULES = [(rules, cls) for rules in RULES for cls in get_rule_set(rules).classes]
loads_in_e = st.decimals(min_value=0, max_value=300_000, places=3, allow_nan=False, allow_infinity=False)


def _top(rules: str, cls: AccuracyClass) -> Decimal:
    last = get_rule_set(rules).bands_for(cls)[-1].upper_e
    return Decimal(10**9) if last is None else last + 9


@given(st.sampled_from(CLASS_RULES), st.sampled_from(list(Stage)), loads_in_e, loads_in_e)
def test_mpe_is_monotone_in_load(class_rules: tuple[str, AccuracyClass], stage: Stage, a: Decimal, b: Decimal) -> None:
    rules, cls = class_rules
    low, high = sorted((min(a, _top(rules, cls)), min(b, _top(rules, cls))))
    assert mpe_in_e(low, cls, stage, rules) <= mpe_in_e(high, cls, stage, rules)


@given(st.sampled_from(CLASS_RULES), st.sampled_from(list(Stage)), loads_in_e)
def test_mpe_is_always_a_band_value(class_rules: tuple[str, AccuracyClass], stage: Stage, m: Decimal) -> None:
    rules, cls = class_rules
    m = min(m, _top(rules, cls))
    assert mpe_in_e(m, cls, stage, rules) in get_rule_set(rules).band_values(cls, stage)


@given(
    st.sampled_from(CLASS_RULES),
    st.sampled_from(list(Stage)),
    st.decimals(min_value=Decimal("1E-9"), max_value=1, allow_nan=False, allow_infinity=False),
)
def test_band_edges_are_exact(class_rules: tuple[str, AccuracyClass], stage: Stage, epsilon: Decimal) -> None:
    """m exactly on an edge takes the lower band; any amount above it, however small, the next band."""
    rules, cls = class_rules
    rule_set = get_rule_set(rules)
    bands = rule_set.bands_for(cls)
    factor = rule_set.multiplier(stage)
    for band, following in itertools.pairwise(bands):
        assert band.upper_e is not None
        assert mpe_in_e(band.upper_e, cls, stage, rules) == band.mpe_e * factor
        assert mpe_in_e(band.upper_e + epsilon, cls, stage, rules) == following.mpe_e * factor


@given(st.sampled_from(list(AccuracyClass)), loads_in_e)
def test_in_service_is_twice_initial(cls: AccuracyClass, m: Decimal) -> None:
    """R 76-1 3.5.2 (CONFIRMED) and JJG 539-1997 in-use inspection (SECONDARY)."""
    for rules in RULES:
        rule_set = get_rule_set(rules)
        if cls not in rule_set.classes:
            continue
        m_in = min(m, _top(rules, cls))
        assert mpe_in_e(m_in, cls, Stage.IN_SERVICE, rules) == 2 * mpe_in_e(m_in, cls, Stage.INITIAL, rules)


@given(st.integers(min_value=0, max_value=3000), st.sampled_from(list(Stage)))
def test_mpe_in_kg_is_exact(steps: int, stage: Stage) -> None:
    """For class III, e = 5 g, Max 15 kg: MPE(kg) = MPE(e) x e exactly, at every multiple of e."""
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    load = steps * Decimal("0.005")
    assert mpe(load, spec, stage=stage) == mpe_in_e(steps, "III", stage) * Decimal("0.005")


def test_rule_sets_carry_their_sources() -> None:
    assert (
        OIML_R76.citation("bands") == "OIML R 76-1:2006, 3.5.1, Table 6 (= Directive 2014/31/EU Annex I, 4.1, Table 3)"
    )
    assert "3.5.2" in (OIML_R76.citation("in-service") or "")
    assert "hengqi choice" in (OIML_R76.citation("subsequent") or "")
    assert [r.id for r in rule_sets()][:2] == ["jjg539", "oiml-r76"]
