"""Read a DCC back into hengqi's result objects.

:func:`read_dcc` reads certificates hengqi wrote (DCC 3.3.0, and the same structure declared as 3.2.x or 3.0.0,
with uncertainties in the current ``si:expandedMU`` form or the deprecated ``si:expandedUnc`` form) into a
:class:`~hengqi.metrology.calibration.result.CalibrationResult` equal to the one written (see
:func:`~hengqi.certificates.dcc.writer.certified_result`).  :func:`read_quantities` lists every ``si:real`` of
any DCC (e.g. PTB's own certificates) with its unit and expanded uncertainty.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Final, TypeVar

from lxml import etree

from hengqi.certificates.dcc import vocabulary as v
from hengqi.certificates.dcc.dsi_read import NS, RealList, RealValue, read_real, read_real_list, where
from hengqi.certificates.errors import DccFormatError
from hengqi.certificates.limits import MAX_DCC_BYTES, check_dcc_file, check_dcc_size
from hengqi.certificates.xml_errors import xml_syntax_text
from hengqi.errors import InputError
from hengqi.metrology.calibration.result import (
    CalibrationPoint,
    CalibrationResult,
    Component,
    Contribution,
    EccentricityResult,
    Environment,
    ErrorCurve,
    InstrumentSummary,
    MinimumWeight,
    MinimumWeightMethod,
    RangeKind,
    ReferenceWeightSet,
    RepeatabilityResult,
    UncertaintyInUse,
    WeighingRange,
)

__all__ = ["DccDocument", "QuantityRecord", "parse_dcc", "read_dcc", "read_quantities"]

Element = etree._Element
T = TypeVar("T")
READABLE_VERSIONS = ("3.3.0", "3.2.1", "3.2.0", "3.1.2", "3.1.1", "3.1.0", "3.0.0")


@dataclass(frozen=True, slots=True)
class DccDocument:
    """What :func:`read_dcc` returns: the declared version, core data and the calibration result."""

    version: str
    unique_identifier: str
    issue_date: date | None
    begin_date: date
    end_date: date
    laboratory_code: str | None
    signed: bool
    result: CalibrationResult
    conformity: tuple[tuple[str, str], ...] = ()  #: (refType, status) of each conformity statement


@dataclass(frozen=True, slots=True)
class QuantityRecord:
    """One ``si:real`` anywhere in a DCC: where it is, its English name, and its value as written."""

    path: str
    name: str
    ref_type: str
    value: RealValue


def _has_doctype(tree: etree._ElementTree) -> bool:
    """Whether a parsed document declares a DOCTYPE (an internal subset, a SYSTEM or a PUBLIC identifier)."""
    info = tree.docinfo
    return info.internalDTD is not None or bool(getattr(info, "doctype", ""))  # lxml-stubs lack .doctype


def parse_dcc(source: str | os.PathLike[str] | bytes, *, max_bytes: int = MAX_DCC_BYTES) -> etree._ElementTree:
    """Parse a DCC file (or bytes) safely; see :func:`parse_dcc_content` (its tree, without the signature)."""
    return parse_dcc_content(source, max_bytes=max_bytes)[0]


def parse_dcc_content(
    source: str | os.PathLike[str] | bytes, *, max_bytes: int = MAX_DCC_BYTES
) -> tuple[etree._ElementTree, bool]:
    """Parse a DCC file (or bytes) safely (no network, no entities); :class:`DccFormatError` if not a DCC.

    What is read is what an XML signature covers: comments and processing instructions are dropped while parsing,
    so that the text around a comment is read joined (``<si:value>100.0<!---->0046</si:value>`` reads
    ``100.00046``, as the canonical form without comments that the signature digests has it; W3C Canonical XML
    1.1, section 2.1), and every ``ds:Signature`` element (with any ``ds:Object`` in it) is removed, so nothing
    is ever read from inside a signature.  A file over ``max_bytes`` is refused before parsing
    (:class:`~hengqi.certificates.limits.DccTooLargeError`).  Returns the tree and whether the root carried an
    enveloped signature.
    """
    if isinstance(source, bytes):
        check_dcc_size(len(source), "dcc", max_bytes)
    else:
        check_dcc_file(source, max_bytes)
    parser = etree.XMLParser(
        no_network=True, resolve_entities=False, remove_blank_text=False, remove_comments=True, remove_pis=True
    )
    try:
        if isinstance(source, bytes):
            tree = etree.ElementTree(etree.fromstring(source, parser))
        else:
            path = Path(source)
            if not path.is_file():
                raise DccFormatError(str(path), "no such file")
            tree = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as err:
        raise DccFormatError("dcc", f"not well-formed XML: {xml_syntax_text(err)}") from err
    except OSError as err:  # lxml reports some encoding errors of a file as OSError
        raise DccFormatError("dcc", f"not readable as XML: {err}") from err
    if _has_doctype(tree):
        raise DccFormatError("dcc", "a DCC must not have a DOCTYPE declaration (DTDs and entities are refused)")
    root = tree.getroot()
    if root.tag != f"{{{v.DCC_NS}}}digitalCalibrationCertificate":
        raise DccFormatError("/", f"root element is {root.tag!r}, not dcc:digitalCalibrationCertificate")
    version = root.get("schemaVersion", "")
    if version not in READABLE_VERSIONS:
        raise DccFormatError(
            "/@schemaVersion", f"DCC version {version!r} not read (reads {', '.join(READABLE_VERSIONS)})"
        )
    signatures = list(root.iter(SIGNATURE))
    signed = any(signature.getparent() is root for signature in signatures)
    for signature in signatures:
        parent = signature.getparent()
        if parent is not None:
            parent.remove(signature)  # never read from inside a signature (its ds:Object is not the content)
    return tree, signed


SIGNATURE: Final = "{http://www.w3.org/2000/09/xmldsig#}Signature"


def _ref(el: Element) -> list[str]:
    return (el.get("refType") or "").split()


def _children(parent: Element, tag: str, ref: str) -> list[Element]:
    return [c for c in parent.findall(f"dcc:{tag}", NS) if ref in _ref(c)]


def _child(parent: Element, tag: str, ref: str) -> Element:
    found = _children(parent, tag, ref)
    if not found:
        raise DccFormatError(where(parent), f"missing dcc:{tag} with refType {ref}")
    return found[0]


def _opt(parent: Element, tag: str, ref: str) -> Element | None:
    found = _children(parent, tag, ref)
    return found[0] if found else None


def _real(q: Element) -> RealValue:
    real = q.find("si:real", NS)
    if real is None:
        raise DccFormatError(where(q), "expected si:real")
    return read_real(real)


def _rlist(q: Element) -> RealList:
    lst = q.find("si:realListXMLList", NS)
    if lst is None:
        raise DccFormatError(where(q), "expected si:realListXMLList")
    return read_real_list(lst)


def _chars(q: Element) -> list[str]:
    el = q.find("dcc:charsXMLList", NS)
    if el is None or el.text is None:
        raise DccFormatError(where(q), "expected dcc:charsXMLList")
    return el.text.split()


def _mass(rv: RealValue, q: Element) -> Decimal:
    return v.parse_mass_text(rv.value, rv.unit, path=where(q))


def _mass_f(text: str, unit: str, q: Element) -> float:
    return v.mass_float(text, unit, path=where(q))


def _masses(q: Element) -> tuple[Decimal, ...]:
    rl = _rlist(q)
    return tuple(v.parse_mass_text(x, u, path=where(q)) for x, u in zip(rl.values, rl.units, strict=True))


def _num(text: str, q: Element) -> float:
    return float(v.number(text, path=where(q)))


def _dof(token: str, q: Element) -> float:
    return math.inf if token == "inf" else _num(token, q)


def _dofs(q: Element) -> list[float]:
    """Degrees of freedom: numbers (``si:realListXMLList``) or tokens with ``inf`` (``dcc:charsXMLList``)."""
    if q.find("dcc:charsXMLList", NS) is not None:
        return [_dof(t, q) for t in _chars(q)]
    return [_num(x, q) for x in _rlist(q).values]


def _text_of(el: Element | None, lang: str = "en") -> str:
    if el is None:
        return ""
    contents = el.findall("dcc:content", NS)
    for c in contents:
        if c.get("lang") == lang and c.text:
            return c.text
    return next((c.text for c in contents if c.text), "")


def _date(el: Element | None) -> date | None:
    if el is None or not el.text:
        return None
    try:
        return date.fromisoformat(el.text.strip())
    except ValueError as err:
        raise DccFormatError(where(el), f"not a date (YYYY-MM-DD): {el.text.strip()!r}") from err


def _points(rl: Element, budgets: list[tuple[Decimal, tuple[Contribution, ...]]]) -> tuple[CalibrationPoint, ...]:
    res = _opt(rl, "result", v.R_ERROR_OF_INDICATION)
    if res is None:
        return ()
    lst = res.find("dcc:data/dcc:list", NS)
    if lst is None:
        raise DccFormatError(where(res), "errors of indication: expected dcc:data/dcc:list")
    loads = _masses(_child(lst, "quantity", v.R_TEST_LOAD))
    refs = _masses(_child(lst, "quantity", v.R_REFERENCE_MASS))
    zero = _masses(_child(lst, "quantity", v.R_NO_LOAD_INDICATION))
    at_load = _masses(_child(lst, "quantity", v.R_LOAD_INDICATION))
    net = _masses(_child(lst, "quantity", v.R_INDICATION))
    eq = _child(lst, "quantity", v.R_ERROR_OF_INDICATION)
    err = _rlist(eq)
    if not err.expanded_u:
        raise DccFormatError(where(eq), "errors of indication carry no expanded uncertainty")
    uq = _child(lst, "quantity", v.R_STANDARD_UNCERTAINTY)
    u = _rlist(uq)
    dq = _child(lst, "quantity", v.R_DEGREES_OF_FREEDOM)
    dofs = _dofs(dq)
    nq = _opt(lst, "quantity", v.R_READINGS_COUNT)
    counts = [int(x) for x in _rlist(nq).values] if nq is not None else [1] * len(loads)
    n = len(loads)
    rq = _opt(lst, "quantity", v.R_RANGE_IN_USE)  # instruments with several ranges: range and d per point
    dq_ = _opt(lst, "quantity", v.R_SCALE_INTERVAL)
    in_use: list[int | None] = [None] * n
    if rq is not None:
        try:
            in_use = [int(x) for x in _rlist(rq).values]
        except ValueError as bad:
            raise DccFormatError(where(rq), f"a range in use is not a whole number: {bad}") from bad
    intervals: list[Decimal | None] = list(_masses(dq_)) if dq_ is not None else [None] * n
    for name, seq in (
        ("reference", refs),
        ("error", err.values),
        ("u", u.values),
        ("dof", dofs),
        ("n", counts),
        ("range", in_use),
        ("d", intervals),
    ):
        if len(seq) != n:
            raise DccFormatError(where(lst), f"{name} list has {len(seq)} entries for {n} test loads")
    points = []
    pending = list(budgets)  # written in the order of the points (those with a budget): taken in that order, so
    for i in range(n):  # that two points at one load (increasing and decreasing) keep their own budgets
        budget: tuple[Contribution, ...] = ()
        if pending and pending[0][0] == loads[i]:
            budget = pending.pop(0)[1]
        points.append(
            CalibrationPoint(
                load_kg=loads[i],
                reference_mass_kg=refs[i],
                no_load_indication_kg=zero[i],
                load_indication_kg=at_load[i],
                indication_kg=net[i],
                error_kg=v.parse_mass_text(err.values[i], err.units[i], path=where(eq)),
                u_kg=_mass_f(u.values[i], u.units[i], uq),
                dof=dofs[i],
                k=_num(err.coverage_factors[i], eq),
                U_kg=_mass_f(err.expanded_u[i], err.units[i], eq),
                budget=budget,
                readings=counts[i],
                d_kg=intervals[i],
                range_in_use=in_use[i],
            )
        )
    return tuple(points)


def _budget(lst: Element) -> tuple[Contribution, ...]:
    descriptions = [c.text or "" for c in lst.findall("dcc:description/dcc:content", NS)]
    uq = _child(lst, "quantity", v.R_STANDARD_UNCERTAINTY)
    u = _rlist(uq)
    dq = _child(lst, "quantity", v.R_DEGREES_OF_FREEDOM)
    comps = _chars(_child(lst, "quantity", v.R_BUDGET_COMPONENT))
    dists = _chars(_child(lst, "quantity", v.R_BUDGET_DISTRIBUTION))
    dofs = _dofs(dq)
    n = len(u.values)
    if not (len(u.labels) == len(descriptions) == len(dofs) == len(comps) == len(dists) == n):
        raise DccFormatError(where(lst), "uncertainty budget lists differ in length")
    try:
        components = [Component(c) for c in comps]
    except ValueError as err:
        raise DccFormatError(where(lst), f"unknown budget component: {err}") from err
    return tuple(
        Contribution(
            u.labels[i],
            _mass_f(u.values[i], u.units[i], uq),
            dofs[i],
            descriptions[i],
            components[i],
            dists[i],
        )
        for i in range(n)
    )


def _budgets(rl: Element) -> list[tuple[Decimal, tuple[Contribution, ...]]]:
    res = _opt(rl, "result", v.R_UNCERTAINTY_BUDGET)
    if res is None:
        return []
    out = []
    for lst in res.findall("dcc:data/dcc:list", NS):
        q = _child(lst, "quantity", v.R_TEST_LOAD)
        out.append((_mass(_real(q), q), _budget(_child(lst, "list", v.R_UNCERTAINTY_BUDGET))))
    return out


def _data_list(res: Element) -> Element:
    lst = res.find("dcc:data/dcc:list", NS)
    if lst is None:
        raise DccFormatError(where(res), "expected dcc:data/dcc:list")
    return lst


def _one(parent: Element, ref: str, conv: Callable[[RealValue, Element], T]) -> T:
    q = _child(parent, "quantity", ref)
    return conv(_real(q), q)


def _as_mass(rv: RealValue, q: Element) -> Decimal:
    return _mass(rv, q)


def _as_mass_f(rv: RealValue, q: Element) -> float:
    return _mass_f(rv.value, rv.unit, q)


def _as_float(rv: RealValue, q: Element) -> float:
    return _num(rv.value, q)


def _as_int(rv: RealValue, q: Element) -> int:
    return int(v.number(rv.value, path=where(q)))


def _repeatability(rl: Element) -> tuple[RepeatabilityResult, ...]:
    out = []
    for res in _children(rl, "result", v.R_REPEATABILITY):
        lst = _data_list(res)
        out.append(
            RepeatabilityResult(
                load_kg=_one(lst, v.R_TEST_LOAD, _as_mass),
                readings=_masses(_child(lst, "quantity", v.R_READINGS)),
                mean_kg=_one(lst, v.R_MEAN, _as_mass),
                s_kg=_one(lst, v.R_STANDARD_DEVIATION, _as_mass_f),
                dof=_one(lst, v.R_DEGREES_OF_FREEDOM, _as_int),
            )
        )
    return tuple(out)


def _eccentricity(rl: Element) -> EccentricityResult | None:
    res = _opt(rl, "result", v.R_ECCENTRICITY)
    if res is None:
        return None
    lst = _data_list(res)
    positions = tuple(_text_of(q.find("dcc:noQuantity", NS)) for q in _children(lst, "quantity", v.R_LOAD_POSITION))
    return EccentricityResult(
        load_kg=_one(lst, v.R_TEST_LOAD, _as_mass),
        positions=positions,
        indications_kg=_masses(_child(lst, "quantity", v.R_INDICATION)),
        deviations_kg=_masses(_child(lst, "quantity", v.R_ECC_DEVIATION)),
        max_deviation_kg=_one(lst, v.R_ECC_MAX_DEVIATION, _as_mass),
    )


def _curve(lst: Element) -> ErrorCurve:
    powers = tuple(int(x) for x in _rlist(_child(lst, "quantity", v.R_CURVE_POWERS)).values)
    cq = _child(lst, "quantity", v.R_CURVE_COEFFICIENTS)
    coefficients = tuple(_num(x, cq) for x in _rlist(cq).values)
    vq = _child(lst, "quantity", v.R_CURVE_COVARIANCE)
    flat = [_num(x, vq) for x in _rlist(vq).values]
    m = len(coefficients)
    if len(powers) != m or len(flat) != m * m:
        raise DccFormatError(where(lst), "error curve: powers, coefficients and covariance do not fit together")
    return ErrorCurve(
        model=_chars(_child(lst, "quantity", v.R_CURVE_MODEL))[0],
        powers=powers,
        coefficients=coefficients,
        covariance=tuple(tuple(flat[i * m : (i + 1) * m]) for i in range(m)),
        chi2=_one(lst, v.R_CHI2, _as_float),
        dof=_one(lst, v.R_DEGREES_OF_FREEDOM, _as_int),
        u_approx_kg=_one(lst, v.R_U_APPROXIMATION, _as_mass_f),
        method=_text_of(lst.find("dcc:description", NS)),
    )


def _top_curve(rl: Element) -> ErrorCurve | None:
    res = _opt(rl, "result", v.R_ERROR_CURVE)
    if res is None:
        return None
    data = res.find("dcc:data", NS)
    if data is None:
        raise DccFormatError(where(res), "error curve: expected dcc:data")
    return _curve(_child(data, "list", v.R_ERROR_CURVE))


def _in_use(rl: Element) -> UncertaintyInUse | None:
    res = _opt(rl, "result", v.R_UNCERTAINTY_IN_USE)
    if res is None:
        return None
    lst = _data_list(res)
    budget_el = _opt(lst, "list", v.R_UNCERTAINTY_BUDGET)
    curve_el = _opt(lst, "list", v.R_ERROR_CURVE)
    return UncertaintyInUse(
        alpha_kg=_one(lst, v.R_IN_USE_ALPHA, _as_mass_f),
        beta=_one(lst, v.R_IN_USE_BETA, _as_float),
        k=_one(lst, v.R_COVERAGE_FACTOR, _as_float),
        corrected=_chars(_child(lst, "quantity", v.R_IN_USE_CORRECTED)) == ["true"],
        error_curve=_curve(curve_el) if curve_el is not None else None,
        budget=_budget(budget_el) if budget_el is not None else (),
        max_kg=_one(lst, v.R_RANGE_MAX, _as_mass_f),
        derivation=_text_of(res.find("dcc:description", NS)),
    )


def _minimum_weights(rl: Element) -> tuple[MinimumWeight, ...]:
    out = []
    for res in _children(rl, "result", v.R_MINIMUM_WEIGHT):
        lst = _data_list(res)
        mq = _child(lst, "quantity", v.R_MIN_WEIGHT_METHOD)
        try:
            method = MinimumWeightMethod(_chars(mq)[0])
        except ValueError as err:
            raise DccFormatError(where(mq), f"unknown minimum-weight method: {err}") from err
        s_q = _opt(lst, "quantity", v.R_STANDARD_DEVIATION)
        d_q = _opt(lst, "quantity", v.R_SCALE_INTERVAL)
        out.append(
            MinimumWeight(
                method=method,
                value_kg=_one(lst, v.R_MINIMUM_WEIGHT, _as_mass_f),
                tolerance=_one(lst, v.R_TOLERANCE, _as_float),
                safety_factor=_one(lst, v.R_SAFETY_FACTOR, _as_float),
                s_kg=_as_mass_f(_real(s_q), s_q) if s_q is not None else None,
                d_kg=_mass(_real(d_q), d_q) if d_q is not None else None,
                rule=_text_of(res.find("dcc:description", NS)),
            )
        )
    return tuple(out)


def _environment(mr: Element) -> Environment:
    ics = mr.find("dcc:influenceConditions", NS)
    values: dict[str, float] = {}
    if ics is not None:
        for ic in ics.findall("dcc:influenceCondition", NS):
            real = ic.find("dcc:data/dcc:quantity/si:real", NS)
            if real is None:
                continue
            for ref in _ref(ic):
                values[ref] = _num(read_real(real).value, ic)
    return Environment(
        temperature_start_c=values.get(v.R_TEMPERATURE_START),
        temperature_end_c=values.get(v.R_TEMPERATURE_END),
        relative_humidity_percent=values.get(v.R_HUMIDITY),
        pressure_hpa=values.get(v.R_PRESSURE),
        air_density_kg_m3=values.get(v.R_AIR_DENSITY),
    )


def _weights(mr: Element) -> tuple[ReferenceWeightSet, ...]:
    out = []
    for me in mr.findall("dcc:measuringEquipments/dcc:measuringEquipment", NS):
        if v.R_WEIGHT_SET not in _ref(me):
            continue
        cls = me.find("dcc:equipmentClass/dcc:classID", NS)
        ident = me.find("dcc:identifications/dcc:identification/dcc:value", NS)
        quantities = {
            ref: q.find("si:real", NS)
            for q in me.findall("dcc:measuringEquipmentQuantities/dcc:measuringEquipmentQuantity", NS)
            for ref in _ref(q)
        }
        count, nominal = quantities.get(v.R_WEIGHT_COUNT), quantities.get(v.R_NOMINAL_MASS)
        out.append(
            ReferenceWeightSet(
                identifier=ident.text if ident is not None and ident.text else "",
                weight_class=cls.text if cls is not None else None,
                certificate=_text_of(me.find("dcc:description", NS)),
                quantity=1 if count is None else _as_int(read_real(count), count),
                nominal_kg=None if nominal is None else _mass(read_real(nominal), nominal),
            )
        )
    return tuple(out)


def _instrument(item: Element) -> InstrumentSummary:
    iq = item.find("dcc:itemQuantities", NS)
    if iq is None:
        raise DccFormatError(where(item), "missing dcc:itemQuantities (Max, d)")

    def mass(ref: str) -> Decimal | None:
        q = _opt(iq, "itemQuantity", ref)
        return _mass(_real(q), q) if q is not None else None

    max_kg, d_kg = mass(v.R_MAX), mass(v.R_D)
    if max_kg is None or d_kg is None:
        raise DccFormatError(where(iq), f"missing item quantity {v.R_MAX} or {v.R_D}")
    cls = _opt(iq, "itemQuantity", v.R_ACCURACY_CLASS)
    ids = item.find("dcc:identifications", NS)
    serial = _opt(ids, "identification", v.R_SERIAL) if ids is not None else None
    ident = _opt(ids, "identification", v.R_IDENTIFIER) if ids is not None else None
    model = item.find("dcc:model", NS)

    def value(el: Element | None) -> str:
        found = el.find("dcc:value", NS) if el is not None else None
        return found.text or "" if found is not None else ""

    kind_q = _opt(iq, "itemQuantity", v.R_RANGE_KIND)
    kind: RangeKind | None = None
    ranges: tuple[WeighingRange, ...] = ()
    if kind_q is not None:  # an instrument with several ranges
        try:
            kind = RangeKind(_text_of(kind_q.find("dcc:noQuantity", NS)))
        except ValueError as bad:
            raise DccFormatError(where(kind_q), f"unknown kind of ranges: {bad}") from bad
        maxes = _masses(_child(iq, "itemQuantity", v.R_RANGES_MAX))
        intervals = _masses(_child(iq, "itemQuantity", v.R_RANGES_D))
        eq = _opt(iq, "itemQuantity", v.R_RANGES_E)
        es: tuple[Decimal | None, ...] = _masses(eq) if eq is not None else (None,) * len(maxes)
        if not len(maxes) == len(intervals) == len(es):
            raise DccFormatError(where(iq), "the lists of Max(i), d(i) and e(i) differ in length")
        ranges = tuple(WeighingRange(m, d, e) for m, d, e in zip(maxes, intervals, es, strict=True))
    return InstrumentSummary(
        kind=kind,
        ranges=ranges,
        max_kg=max_kg,
        d_kg=d_kg,
        e_kg=mass(v.R_E),
        accuracy_class=_text_of(cls.find("dcc:noQuantity", NS)) if cls is not None else None,
        min_kg=mass(v.R_MIN),
        manufacturer=_text_of(item.find("dcc:manufacturer/dcc:name", NS)),
        model=model.text or "" if model is not None else "",
        serial_number=value(serial),
        identifier=value(ident),
    )


def _statements(ad: Element, ref: str) -> list[str]:
    return [
        _text_of(st.find("dcc:declaration", NS))
        for st in ad.findall("dcc:statements/dcc:statement", NS)
        if ref in _ref(st)
    ]


def read_dcc(source: str | os.PathLike[str] | bytes, *, max_bytes: int = MAX_DCC_BYTES) -> DccDocument:
    """Read a DCC hengqi wrote back into a :class:`DccDocument`; :class:`DccFormatError` names what is missing.

    A value that cannot be read (a number, date or list that does not parse, a list shorter than its neighbours)
    is a :class:`DccFormatError` too, never a bare ``ValueError`` or ``IndexError``.
    """
    try:
        return _read_dcc(source, max_bytes=max_bytes)
    except InputError:
        raise
    except (ValueError, IndexError, ArithmeticError) as err:  # a foreign error: translated here, at the boundary
        raise DccFormatError("dcc", f"a value cannot be read ({type(err).__name__}: {err})") from err


def _read_dcc(source: str | os.PathLike[str] | bytes, *, max_bytes: int) -> DccDocument:
    tree, signed = parse_dcc_content(source, max_bytes=max_bytes)
    root = tree.getroot()
    ad = root.find("dcc:administrativeData", NS)
    if ad is None:
        raise DccFormatError(where(root), "missing dcc:administrativeData")
    core = ad.find("dcc:coreData", NS)
    item = ad.find("dcc:items/dcc:item", NS)
    mr = root.find("dcc:measurementResults/dcc:measurementResult", NS)
    if core is None or item is None or mr is None:
        raise DccFormatError(where(root), "missing coreData, items/item or measurementResult")
    rl = mr.find("dcc:results", NS)
    if rl is None:
        raise DccFormatError(where(mr), "missing dcc:results")
    begin, end = _date(core.find("dcc:beginPerformanceDate", NS)), _date(core.find("dcc:endPerformanceDate", NS))
    if begin is None or end is None:
        raise DccFormatError(where(core), "missing performance dates")
    uid_el = core.find("dcc:uniqueIdentifier", NS)
    uid = uid_el.text.strip() if uid_el is not None and uid_el.text else ""
    operator = next(
        (
            _text_of(rp.find("dcc:person/dcc:name", NS))
            for rp in ad.findall("dcc:respPersons/dcc:respPerson", NS)
            if v.R_OPERATOR in _ref(rp)
        ),
        "",
    )
    norms = [
        n.text
        for um in mr.findall("dcc:usedMethods/dcc:usedMethod", NS)
        if v.R_METHOD in _ref(um)
        for n in um.findall("dcc:norm", NS)
        if n.text
    ]
    locations = _statements(ad, v.R_LOCATION)
    method_default = CalibrationResult.__dataclass_fields__["method"].default
    result = CalibrationResult(
        instrument=_instrument(item),
        points=_points(rl, _budgets(rl)),
        repeatability=_repeatability(rl),
        eccentricity=_eccentricity(rl),
        error_curve=_top_curve(rl),
        uncertainty_in_use=_in_use(rl),
        minimum_weights=_minimum_weights(rl),
        environment=_environment(mr),
        weights=_weights(mr),
        calibration_date=begin,
        certificate_number=uid,
        laboratory=_text_of(ad.find("dcc:calibrationLaboratory/dcc:contact/dcc:name", NS)),
        customer=_text_of(ad.find("dcc:customer/dcc:name", NS)),
        location=locations[0] if locations else "",
        operator=operator,
        method=_method(norms, method_default),
        notes=tuple(_statements(ad, v.R_NOTE)),
    )
    code = ad.find("dcc:calibrationLaboratory/dcc:calibrationLaboratoryCode", NS)
    return DccDocument(
        version=root.get("schemaVersion", ""),
        unique_identifier=uid,
        issue_date=_date(core.find("dcc:issueDate", NS)),
        begin_date=begin,
        end_date=end,
        laboratory_code=code.text if code is not None else None,
        signed=signed,
        result=result,
        conformity=tuple(
            (_statement_ref(st.get("refType") or ""), c.text.strip())
            for st in ad.findall("dcc:statements/dcc:statement", NS)
            for c in st.findall("dcc:conformity", NS)
            if c.text
        ),
    )


def _statement_ref(ref_type: str) -> str:
    """The statement's own refType: its ``hengqi_*`` token where it has one beside PTB's ``basic_*`` ones."""
    tokens = ref_type.split()
    return next((t for t in tokens if t.startswith("hengqi_")), ref_type)


def _method(norms: Sequence[str], default: object) -> str:
    return norms[0] if norms else str(default)


def read_quantities(source: str | os.PathLike[str] | bytes, *, max_bytes: int = MAX_DCC_BYTES) -> list[QuantityRecord]:
    """Every ``si:real`` in a DCC of any readable version, in document order (for certificates of any origin).

    Read as :func:`parse_dcc` reads: comments dropped with the text around them joined, nothing from inside a
    ``ds:Signature``.
    """
    tree = parse_dcc(source, max_bytes=max_bytes)
    out = []
    for real in tree.getroot().iter(f"{{{v.SI_NS}}}real"):
        owner = real.getparent()
        name = _text_of(owner.find("dcc:name", NS)) if owner is not None else ""
        out.append(
            QuantityRecord(
                tree.getpath(real), name, (owner.get("refType") or "") if owner is not None else "", read_real(real)
            )
        )
    return out
