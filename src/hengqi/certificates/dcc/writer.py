"""Write a calibration of a non-automatic weighing instrument as a DCC 3.3.0 / D-SI 2.2.1 document.

Structure (PTB ``dcc.xsd`` 3.3.0; ``/work/shared/reference/dcc.md`` sections 2 and 3): ``administrativeData`` from
:class:`~hengqi.certificates.admin.AdministrativeData`; one ``measurementResult`` carrying the method
(EURAMET cg-18 v4.0), the environment as influence conditions, the reference weights as measuring equipment, and
results with hengqi's ``refType`` vocabulary (:mod:`hengqi.certificates.dcc.vocabulary`): errors of indication
with expanded uncertainties (``si:expandedMUXMLList``), the uncertainty budget of each point, repeatability,
eccentricity, the error curve, the uncertainty in use with its formula, and minimum weights.

Numbers are plain decimal strings, exact: Decimals as written, floats through their shortest representation, so
that :func:`hengqi.certificates.dcc.reader.read_dcc` gives back the same values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal

from lxml import etree

from hengqi import __version__
from hengqi.certificates.admin import Address, AdministrativeData, ConformityRequest
from hengqi.certificates.conformity import DECISION_RULE, RULE, ConformityAssessment, assess_conformity
from hengqi.certificates.dcc import vocabulary as v
from hengqi.certificates.dcc import xmlbuild as xb
from hengqi.certificates.wording import customer_text, is_internal
from hengqi.errors import RecordError
from hengqi.metrology.calibration.result import (
    CalibrationPoint,
    CalibrationResult,
    Contribution,
    Environment,
    ErrorCurve,
    InstrumentSummary,
    MinimumWeightMethod,
    UncertaintyInUse,
)
from hengqi.metrology.reporting import reported_error, reported_uncertainty

__all__ = ["certified_result", "dcc_bytes", "write_dcc"]

Element = etree._Element


def certified_result(result: CalibrationResult, admin: AdministrativeData) -> CalibrationResult:
    """The result as the certificate states it: identification taken from the administrative data; E, U, u(E)
    and k rounded as certified (:func:`hengqi.metrology.reporting.reported_error`, JCGM 100:2008 7.2.6); the
    method, budget descriptions and minimum-weight rules in plain words, and notes on sources left out
    (:mod:`hengqi.certificates.wording`).  PDF and DCC both render this value, so they state the same numbers.

    The instrument's Max and d in ``ADMIN.yaml`` must agree with the calibration record (a certificate must not
    contradict its own measurements); :class:`RecordError` names the field otherwise.
    """
    item, inst = admin.item, result.instrument
    end = admin.certificate.end_date or result.calibration_date
    if admin.certificate.issue_date < end:
        raise RecordError(
            "certificate.issue_date", f"{admin.certificate.issue_date} is before the calibration ({end.isoformat()})"
        )
    for field, mine, theirs in (("item.max", item.max_kg, inst.max_kg), ("item.d", item.d_kg, inst.d_kg)):
        if mine != theirs:
            raise RecordError(field, f"{mine} kg in the administrative data but {theirs} kg in the calibration record")
    instrument = InstrumentSummary(
        max_kg=item.max_kg,
        d_kg=item.d_kg,
        e_kg=item.e_kg if item.e_kg is not None else inst.e_kg,
        accuracy_class=item.accuracy_class or inst.accuracy_class,
        min_kg=item.min_kg if item.min_kg is not None else inst.min_kg,
        manufacturer=item.manufacturer or inst.manufacturer,
        model=item.model or inst.model,
        serial_number=item.serial_number or inst.serial_number,
        identifier=inst.identifier,
        kind=inst.kind,
        ranges=inst.ranges,
    )
    return dataclasses.replace(
        result,
        instrument=instrument,
        certificate_number=admin.certificate.number,
        laboratory=admin.laboratory.name["en"],
        customer=admin.customer.name["en"],
        points=tuple(_as_certified(p) for p in result.points),
        error_curve=_curve_words(result.error_curve),
        uncertainty_in_use=_in_use_words(result.uncertainty_in_use),
        minimum_weights=tuple(
            dataclasses.replace(m, rule=MINIMUM_WEIGHT_RULES.get(m.method, customer_text(m.rule)))
            for m in result.minimum_weights
        ),
        notes=tuple(n for n in result.notes if not is_internal(n)),
    )


#: The minimum-weight rules in words for the customer.
MINIMUM_WEIGHT_RULES: Mapping[str, str] = {
    MinimumWeightMethod.USP41: (
        "USP <41>: the smallest net weight m with 2 s / m <= 0.10 %, s being the standard deviation of at least "
        "10 replicate weighings (not less than 0.41 d), multiplied by the safety factor"
    ),
    MinimumWeightMethod.CG18: (
        "the smallest net weight m whose expanded uncertainty in use U(m), multiplied by the safety factor, is at "
        "most the stated relative tolerance of m"
    ),
}
IN_USE_WORDS = (
    "U(W) is the expanded uncertainty of a weighing result W at the reading R anywhere in the weighing range; "
    "it combines the uncertainty of the errors of indication found here, repeatability, eccentricity, rounding "
    "and the stated temperature effect in use"
)


def _budget_words(budget: tuple[Contribution, ...]) -> tuple[Contribution, ...]:
    return tuple(dataclasses.replace(c, description=customer_text(c.description)) for c in budget)


def _as_certified(p: CalibrationPoint) -> CalibrationPoint:
    """A point as certified: E and U rounded once (:func:`hengqi.metrology.reporting.reported_error`), u(E)
    to two significant digits, k to two decimals, budget descriptions in plain words."""
    r = reported_error(p.error_kg, p.U_kg, p.k)
    return dataclasses.replace(
        p,
        error_kg=r.error_kg,
        U_kg=float(r.U_kg),
        k=float(r.k),
        u_kg=float(reported_uncertainty(p.u_kg)),
        budget=_budget_words(p.budget),
    )


def _curve_words(curve: ErrorCurve | None) -> ErrorCurve | None:
    return None if curve is None else dataclasses.replace(curve, method=customer_text(curve.method))


def _in_use_words(iu: UncertaintyInUse | None) -> UncertaintyInUse | None:
    if iu is None:
        return None
    return dataclasses.replace(
        iu, derivation=IN_USE_WORDS, budget=_budget_words(iu.budget), error_curve=_curve_words(iu.error_curve)
    )


def write_dcc(result: CalibrationResult, admin: AdministrativeData, *, software_release: str | None = None) -> Element:
    """The DCC root element for ``result`` described by ``admin`` (see :func:`certified_result`)."""
    res = certified_result(result, admin)
    unit = v.choose_mass_unit(res.instrument.max_kg)
    root = etree.Element(f"{{{v.DCC_NS}}}digitalCalibrationCertificate", nsmap=v.NSMAP)
    root.set("schemaVersion", v.DCC_VERSION)
    root.set(f"{{{v.XSI_NS}}}schemaLocation", v.SCHEMA_LOCATION)
    _administrative_data(root, res, admin, unit, software_release or f"v{__version__}")
    results = xb.dcc(root, "measurementResults")
    mr = xb.dcc(results, "measurementResult", refType=v.R_METHOD)
    xb.text_block(mr, "name", xb.name_of(v.R_METHOD))
    _methods(mr, res, admin)
    software = xb.dcc(xb.dcc(mr, "usedSoftware"), "software")
    xb.text_block(software, "name", {"en": "hengqi"}, with_lang=False)
    xb.dcc(software, "release", software_release or f"v{__version__}")
    xb.dcc(software, "type", "application")
    _equipment(mr, res)
    _conditions(mr, res.environment, admin)
    rl = xb.dcc(mr, "results")
    per_point = _point_conformity(res, admin.conformity, unit) if admin.conformity is not None else None
    _errors_of_indication(rl, res.points, unit, per_point)
    _budgets(rl, res.points, unit)
    for series in res.repeatability:
        r = _result(rl, v.R_REPEATABILITY)
        lst = xb.dcc(r, "list")
        xb.real_quantity(lst, v.R_TEST_LOAD, v.mass_text(series.load_kg, unit), unit)
        xb.list_quantity(lst, v.R_READINGS, [v.mass_text(x, unit) for x in series.readings], unit)
        xb.real_quantity(lst, v.R_MEAN, v.mass_text(series.mean_kg, unit), unit)
        xb.real_quantity(lst, v.R_STANDARD_DEVIATION, v.mass_text(series.s_kg, unit), unit)
        xb.real_quantity(lst, v.R_DEGREES_OF_FREEDOM, str(series.dof), v.ONE)
    if res.eccentricity is not None:
        ecc = res.eccentricity
        lst = xb.dcc(_result(rl, v.R_ECCENTRICITY), "list")
        xb.real_quantity(lst, v.R_TEST_LOAD, v.mass_text(ecc.load_kg, unit), unit)
        for position in ecc.positions:
            xb.text_quantity(lst, v.R_LOAD_POSITION, position)
        xb.list_quantity(lst, v.R_INDICATION, [v.mass_text(x, unit) for x in ecc.indications_kg], unit)
        xb.list_quantity(lst, v.R_ECC_DEVIATION, [v.mass_text(x, unit) for x in ecc.deviations_kg], unit)
        xb.real_quantity(lst, v.R_ECC_MAX_DEVIATION, v.mass_text(ecc.max_deviation_kg, unit), unit)
    if res.error_curve is not None:
        _error_curve(_result(rl, v.R_ERROR_CURVE), res.error_curve)
    if res.uncertainty_in_use is not None:
        _in_use(rl, res.uncertainty_in_use, unit)
    for mw in res.minimum_weights:
        r = _result(rl, v.R_MINIMUM_WEIGHT, mw.rule)
        lst = xb.dcc(r, "list")
        xb.chars_quantity(lst, v.R_MIN_WEIGHT_METHOD, [mw.method.value])
        xb.real_quantity(lst, v.R_MINIMUM_WEIGHT, v.mass_text(mw.value_kg, unit), unit)
        xb.real_quantity(lst, v.R_TOLERANCE, v.plain(mw.tolerance), v.ONE)
        xb.real_quantity(lst, v.R_SAFETY_FACTOR, v.plain(mw.safety_factor), v.ONE)
        if mw.s_kg is not None:
            xb.real_quantity(lst, v.R_STANDARD_DEVIATION, v.mass_text(mw.s_kg, unit), unit)
        if mw.d_kg is not None:
            xb.real_quantity(lst, v.R_SCALE_INTERVAL, v.mass_text(mw.d_kg, unit), unit)
    return root


def dcc_bytes(result: CalibrationResult, admin: AdministrativeData, *, software_release: str | None = None) -> bytes:
    """The DCC as UTF-8 bytes with an XML declaration, pretty-printed."""
    root = write_dcc(result, admin, software_release=software_release)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# -- administrative data ---------------------------------------------------------------------------------------


def _location(parent: Element, address: Address) -> None:
    loc = xb.dcc(parent, "location")
    for tag, value in (
        ("street", address.street),
        ("streetNo", address.street_no),
        ("postCode", address.post_code),
        ("city", address.city),
        ("state", address.state),
        ("countryCode", address.country),
    ):
        if value:
            xb.dcc(loc, tag, value)


def _contact(parent: Element, tag: str, name: Mapping[str, str], email: str | None, phone: str | None) -> Element:
    el = xb.dcc(parent, tag)
    xb.text_block(el, "name", name)
    if email:
        xb.dcc(el, "eMail", email)
    if phone:
        xb.dcc(el, "phone", phone)
    return el


def _list_item(parent: Element, ref_type: str, values: Sequence[str], unit: str) -> None:
    q = xb.named(parent, "itemQuantity", ref_type)
    lst = xb.si(q, "realListXMLList")
    xb.si(lst, "valueXMLList", " ".join(values))
    xb.si(lst, "unitXMLList", unit)


def _quantity_item(parent: Element, ref_type: str, value: str, unit: str) -> None:
    q = xb.named(parent, "itemQuantity", ref_type)
    real = xb.si(q, "real")
    xb.si(real, "value", value)
    xb.si(real, "unit", unit)


def _administrative_data(
    root: Element, res: CalibrationResult, admin: AdministrativeData, unit: str, release: str
) -> None:
    ad = xb.dcc(root, "administrativeData")
    sw = xb.dcc(xb.dcc(ad, "dccSoftware"), "software")
    xb.text_block(sw, "name", {"en": "hengqi"}, with_lang=False)
    xb.dcc(sw, "release", release)
    xb.dcc(sw, "type", "application")

    info = admin.certificate
    core = xb.dcc(ad, "coreData")
    xb.dcc(core, "countryCodeISO3166_1", info.country)
    for lang in info.languages:
        xb.dcc(core, "usedLangCodeISO639_1", lang)
    for lang in info.mandatory_languages:
        xb.dcc(core, "mandatoryLangCodeISO639_1", lang)
    xb.dcc(core, "uniqueIdentifier", info.number)
    if info.receipt_date:
        xb.dcc(core, "receiptDate", info.receipt_date.isoformat())
    xb.dcc(core, "beginPerformanceDate", (info.begin_date or res.calibration_date).isoformat())
    xb.dcc(core, "endPerformanceDate", (info.end_date or res.calibration_date).isoformat())
    xb.dcc(core, "performanceLocation", info.performance_location)
    xb.dcc(core, "issueDate", info.issue_date.isoformat())

    items = xb.dcc(ad, "items")
    item = xb.dcc(items, "item")
    xb.text_block(item, "name", admin.item.name)
    inst = res.instrument
    if inst.accuracy_class:
        ec = xb.dcc(item, "equipmentClass")
        xb.dcc(ec, "reference", "OIML R 76-1:2006")
        xb.dcc(ec, "classID", inst.accuracy_class)
    if inst.manufacturer:
        man = xb.dcc(item, "manufacturer")
        xb.text_block(man, "name", {"en": inst.manufacturer}, with_lang=False)
    if inst.model:
        xb.dcc(item, "model", inst.model)
    ids = xb.dcc(item, "identifications")
    if inst.serial_number:
        ident = xb.dcc(ids, "identification", refType=v.R_SERIAL)
        xb.dcc(ident, "issuer", "manufacturer")
        xb.dcc(ident, "value", inst.serial_number)
        xb.text_block(ident, "name", xb.name_of(v.R_SERIAL))
    if inst.identifier:
        ident = xb.dcc(ids, "identification", refType=v.R_IDENTIFIER)
        xb.dcc(ident, "issuer", "owner")
        xb.dcc(ident, "value", inst.identifier)
        xb.text_block(ident, "name", xb.name_of(v.R_IDENTIFIER))
    for extra in admin.item.identifications:
        ident = xb.dcc(ids, "identification")
        xb.dcc(ident, "issuer", extra.issuer)
        xb.dcc(ident, "value", extra.value)
        xb.text_block(ident, "name", extra.name)
    iq = xb.dcc(item, "itemQuantities")
    _quantity_item(iq, v.R_MAX, v.mass_text(inst.max_kg, unit), unit)
    if inst.min_kg is not None:
        _quantity_item(iq, v.R_MIN, v.mass_text(inst.min_kg, unit), unit)
    _quantity_item(iq, v.R_D, v.mass_text(inst.d_kg, unit), unit)
    if inst.e_kg is not None:
        _quantity_item(iq, v.R_E, v.mass_text(inst.e_kg, unit), unit)
    if inst.accuracy_class:
        q = xb.named(iq, "itemQuantity", v.R_ACCURACY_CLASS)
        nq = xb.dcc(q, "noQuantity")
        xb.dcc(nq, "content", inst.accuracy_class)
    if inst.ranges:  # an instrument with several ranges: its kind and Max(i), d(i), e(i)
        q = xb.named(iq, "itemQuantity", v.R_RANGE_KIND)
        xb.dcc(xb.dcc(q, "noQuantity"), "content", str(inst.kind or ""))
        _list_item(iq, v.R_RANGES_MAX, [v.mass_text(r.max_kg, unit) for r in inst.ranges], unit)
        _list_item(iq, v.R_RANGES_D, [v.mass_text(r.d_kg, unit) for r in inst.ranges], unit)
        if all(r.e_kg is not None for r in inst.ranges):
            _list_item(iq, v.R_RANGES_E, [v.mass_text(r.e_kg, unit) for r in inst.ranges if r.e_kg], unit)

    lab = admin.laboratory
    cl = xb.dcc(ad, "calibrationLaboratory")
    if lab.accreditation:
        xb.dcc(cl, "calibrationLaboratoryCode", lab.accreditation)
    contact = _contact(cl, "contact", lab.name, lab.email, lab.phone)
    if lab.link:
        xb.dcc(contact, "link", lab.link)
    _location(contact, lab.address)

    persons = xb.dcc(ad, "respPersons")
    for person in admin.persons:
        rp = xb.dcc(persons, "respPerson")
        _contact(rp, "person", {"en": person.name}, person.email, None)
        if person.role:
            xb.text_block(rp, "description", person.role)
        if person.main_signer:
            xb.dcc(rp, "mainSigner", "true")
    if res.operator:
        rp = xb.dcc(persons, "respPerson", refType=v.R_OPERATOR)
        xb.text_block(xb.dcc(rp, "person"), "name", {"en": res.operator}, with_lang=False)
        xb.dcc(rp, "role", "operator")

    cust = _contact(ad, "customer", admin.customer.name, admin.customer.email, admin.customer.phone)
    _location(cust, admin.customer.address)

    statements = xb.dcc(ad, "statements")
    st = xb.dcc(statements, "statement", refType=v.R_TRACEABILITY)
    xb.dcc(st, "traceable", "true")
    xb.text_block(st, "declaration", admin.traceability)
    for statement in admin.statements:
        st = xb.dcc(statements, "statement", **({"refType": statement.ref_type} if statement.ref_type else {}))
        if statement.traceable is not None:
            xb.dcc(st, "traceable", "true" if statement.traceable else "false")
        for norm in statement.norms:
            xb.dcc(st, "norm", norm)
        xb.text_block(st, "declaration", statement.text)
        if statement.conformity:
            xb.dcc(st, "conformity", statement.conformity)
    if admin.conformity is not None:
        _conformity(statements, res, admin.conformity, unit)
    if res.location:
        st = xb.dcc(statements, "statement", refType=v.R_LOCATION)
        xb.text_block(st, "declaration", {"en": res.location})
    for note in res.notes:
        st = xb.dcc(statements, "statement", refType=v.R_NOTE)
        xb.text_block(st, "declaration", {"en": note})


_PROBABILITY_STEP = Decimal("0.000001")  # probabilities on the certificate to 1e-6


def _assessment(res: CalibrationResult, request: ConformityRequest) -> ConformityAssessment:
    assessment = assess_conformity(res, stage=request.stage, rules=request.rules)
    if assessment is None:
        raise RecordError("conformity", "a statement of conformity needs the accuracy class and e of the item")
    return assessment


def _conformity(statements: Element, res: CalibrationResult, request: ConformityRequest, unit: str) -> None:
    """The overall statement of conformity (PTB ``basic_conformity``; ISO/IEC 17025:2017, 7.8.6)."""
    assessment = _assessment(res, request)
    st = xb.dcc(statements, "statement", refType=f"{v.R_CONFORMITY} {v.R_BASIC_CONFORMITY}")
    xb.dcc(st, "norm", assessment.rule)
    xb.dcc(st, "norm", DECISION_RULE)
    pfa = assessment.max_pfa
    en_risk = zh_risk = ""
    if pfa is not None:
        en_risk = f" Largest probability of false acceptance of a conforming point: {pfa:.2%}."
        zh_risk = f"判为合格的测量点中误判接受概率最大为 {pfa:.2%}。"
    en = (
        f"Errors of indication compared with the maximum permissible errors ({assessment.stage} verification, "
        f"{assessment.rule}); decision rule: {RULE.name} ({RULE.source}).{en_risk}"
    )
    zh = (
        f"示值误差与{STAGE_ZH.get(assessment.stage, '检定')}最大允许误差比较；判定规则：以扩展不确定度为保护带。"
        f"{zh_risk}"
    )
    xb.text_block(st, "declaration", {"en": en, "zh": zh})
    xb.dcc(st, "conformity", assessment.status)
    lst = xb.dcc(xb.dcc(st, "data"), "list")
    xb.list_quantity(lst, v.R_TEST_LOAD, [v.mass_text(p.load_kg, unit) for p in assessment.points], unit)
    xb.list_quantity(lst, v.R_MPE, [v.mass_text(p.mpe_kg, unit) for p in assessment.points], unit)
    xb.chars_quantity(lst, v.R_CONFORMITY, [p.status for p in assessment.points])
    probabilities = [v.plain(Decimal(p.p_nonconformity).quantize(_PROBABILITY_STEP)) for p in assessment.points]
    xb.list_quantity(lst, v.R_P_NONCONFORMITY, probabilities, v.ONE)


#: The verification stages in Chinese (for the Chinese declaration; JJG / R 76 wording).
STAGE_ZH: Mapping[str, str] = {"initial": "首次检定", "subsequent": "后续检定", "in-service": "使用中检查"}


def _point_conformity(res: CalibrationResult, request: ConformityRequest, unit: str) -> Element:
    """Per-point conformity of the errors of indication as PTB writes it: ``dcc:measurementMetaData`` /
    ``dcc:metaData refType="basic_conformity"`` (a ``statementMetaDataType``) with ``dcc:conformityXMLList`` and
    the acceptance limits ``basic_acceptanceLimitLower`` / ``basic_acceptanceLimitUpper`` (-MPE, +MPE)."""
    assessment = _assessment(res, request)
    meta = xb.dcc(None, "measurementMetaData")
    md = xb.dcc(meta, "metaData", refType=v.R_BASIC_CONFORMITY)
    xb.text_block(md, "name", {"en": "Conformity", "zh": "符合性"})
    xb.dcc(md, "norm", assessment.rule)
    xb.dcc(md, "norm", DECISION_RULE)
    xb.dcc(md, "conformityXMLList", " ".join(p.status for p in assessment.points))
    data = xb.dcc(md, "data")
    exponent = v.MASS_UNIT_EXPONENT[unit]
    lower = xb.named(
        data,
        "quantity",
        "basic_acceptanceLimitLower",
        {"en": "Lower acceptance limit (-MPE)", "zh": "下限（-最大允许误差）"},
    )
    real = xb.si(lower, "realListXMLList")
    xb.si(real, "valueXMLList", " ".join(v.scaled(-p.mpe_kg, exponent) for p in assessment.points))
    xb.si(real, "unitXMLList", unit)
    upper = xb.named(
        data,
        "quantity",
        "basic_acceptanceLimitUpper",
        {"en": "Upper acceptance limit (MPE)", "zh": "上限（最大允许误差）"},
    )
    real = xb.si(upper, "realListXMLList")
    xb.si(real, "valueXMLList", " ".join(v.scaled(p.mpe_kg, exponent) for p in assessment.points))
    xb.si(real, "unitXMLList", unit)
    return meta


# -- measurement result ----------------------------------------------------------------------------------------


def _methods(mr: Element, res: CalibrationResult, admin: AdministrativeData) -> None:
    """The calibration method first (refType ``hengqi_calibrationMethod``, first norm = ``result.method``), then
    the further methods of the administrative data."""
    methods = xb.dcc(mr, "usedMethods")
    first, *others = admin.methods or (None,)
    um = xb.dcc(methods, "usedMethod", refType=v.R_METHOD)
    xb.text_block(um, "name", first.name if first else xb.name_of(v.R_METHOD))
    if first and first.description:
        xb.text_block(um, "description", first.description)
    for norm in dict.fromkeys((res.method, *(first.norms if first else ()))):
        xb.dcc(um, "norm", norm)
    for method in others:
        if method is None:
            continue
        um = xb.dcc(methods, "usedMethod")
        xb.text_block(um, "name", method.name)
        if method.description:
            xb.text_block(um, "description", method.description)
        for norm in method.norms:
            xb.dcc(um, "norm", norm)


def _equipment(mr: Element, res: CalibrationResult) -> None:
    if not res.weights:
        return
    eq = xb.dcc(mr, "measuringEquipments")
    for ws in res.weights:
        me = xb.dcc(eq, "measuringEquipment", refType=v.R_WEIGHT_SET)
        xb.text_block(me, "name", {"en": "Reference weights", "zh": "参考砝码"})
        if ws.weight_class:
            ec = xb.dcc(me, "equipmentClass")
            xb.dcc(ec, "reference", "OIML R 111-1:2004")
            xb.dcc(ec, "classID", ws.weight_class)
        if ws.certificate:
            desc = xb.dcc(me, "description")
            xb.dcc(desc, "content", ws.certificate)
        ids = xb.dcc(me, "identifications")
        ident = xb.dcc(ids, "identification")
        xb.dcc(ident, "issuer", "calibrationLaboratory")
        xb.dcc(ident, "value", ws.identifier)
        qs = xb.dcc(me, "measuringEquipmentQuantities")
        count = xb.named(qs, "measuringEquipmentQuantity", v.R_WEIGHT_COUNT)
        real = xb.si(count, "real")
        xb.si(real, "value", str(ws.quantity))
        xb.si(real, "unit", v.ONE)
        if ws.nominal_kg is not None:
            unit = v.choose_mass_unit(ws.nominal_kg)
            nominal = xb.named(qs, "measuringEquipmentQuantity", v.R_NOMINAL_MASS)
            real = xb.si(nominal, "real")
            xb.si(real, "value", v.mass_text(ws.nominal_kg, unit))
            xb.si(real, "unit", unit)


def _conditions(mr: Element, env: Environment, admin: AdministrativeData) -> None:
    rows = [
        (f"{v.R_TEMPERATURE} {v.R_TEMPERATURE_START}", env.temperature_start_c, v.DEGREE_CELSIUS),
        (v.R_TEMPERATURE_END, env.temperature_end_c, v.DEGREE_CELSIUS),
        (v.R_HUMIDITY, env.relative_humidity_percent, v.PERCENT),
        (v.R_PRESSURE, env.pressure_hpa, v.HECTOPASCAL),
        (v.R_AIR_DENSITY, env.air_density_kg_m3, v.KG_PER_M3),
    ]
    present = [(r, x, u) for r, x, u in rows if x is not None]
    if not present and not admin.conditions:
        return
    ics = xb.dcc(mr, "influenceConditions")
    for ref_type, value, unit in present:
        names = xb.name_of(ref_type.split()[-1])
        ic = xb.dcc(ics, "influenceCondition", refType=ref_type)
        xb.text_block(ic, "name", names)
        q = xb.dcc(xb.dcc(ic, "data"), "quantity")
        real = xb.si(q, "real")
        xb.si(real, "value", v.plain(float(value)))
        xb.si(real, "unit", unit)
    for cond in admin.conditions:
        ic = xb.dcc(ics, "influenceCondition")
        xb.text_block(ic, "name", cond.name)
        xb.text_block(xb.dcc(ic, "data"), "text", cond.text)


def _result(parent: Element, ref_type: str, description: str | None = None) -> Element:
    r = xb.named(parent, "result", ref_type)
    if description:
        xb.text_block(r, "description", {"en": description})
    return xb.dcc(r, "data")


def _errors_of_indication(
    rl: Element, points: Sequence[CalibrationPoint], unit: str, conformity: Element | None
) -> None:
    """The errors of indication as certified: E and U as rounded by
    :func:`hengqi.metrology.reporting.reported_error` (the digits written are the digits certified), with k, the
    coverage probability and the distribution; u(E) with two significant digits; degrees of freedom as numbers."""
    if not points:
        return
    lst = xb.dcc(_result(rl, v.R_ERROR_OF_INDICATION), "list")
    exponent = v.MASS_UNIT_EXPONENT[unit]

    def masses(attr: str) -> list[str]:
        return [v.mass_text(getattr(p, attr), unit) for p in points]

    reported = [reported_error(p.error_kg, p.U_kg, p.k) for p in points]
    xb.list_quantity(lst, v.R_TEST_LOAD, masses("load_kg"), unit)
    xb.list_quantity(lst, v.R_REFERENCE_MASS, masses("reference_mass_kg"), unit)
    xb.list_quantity(lst, v.R_NO_LOAD_INDICATION, masses("no_load_indication_kg"), unit)
    xb.list_quantity(lst, v.R_LOAD_INDICATION, masses("load_indication_kg"), unit)
    xb.list_quantity(lst, v.R_INDICATION, masses("indication_kg"), unit)
    eq = xb.list_quantity(
        lst,
        v.R_ERROR_OF_INDICATION,
        [v.scaled(r.error_kg, exponent) for r in reported],
        unit,
        expanded=([v.scaled(r.U_kg, exponent) for r in reported], [float(r.k) for r in reported]),
        k_texts=[str(r.k) for r in reported],
        distribution="normal",
    )
    if conformity is not None:
        eq.append(conformity)
    xb.list_quantity(
        lst, v.R_STANDARD_UNCERTAINTY, [v.scaled(reported_uncertainty(p.u_kg), exponent) for p in points], unit
    )
    xb.dof_quantity(lst, v.R_DEGREES_OF_FREEDOM, [p.dof for p in points])
    xb.list_quantity(lst, v.R_READINGS_COUNT, [str(p.readings) for p in points], v.ONE)
    if all(p.range_in_use is not None and p.d_kg is not None for p in points):  # an instrument with several ranges
        xb.list_quantity(lst, v.R_RANGE_IN_USE, [str(p.range_in_use) for p in points], v.ONE)
        xb.list_quantity(lst, v.R_SCALE_INTERVAL, masses("d_kg"), unit)


def _budget_list(parent: Element, budget: Sequence[Contribution], unit: str) -> None:
    """One budget: contribution names as labels, u, degrees of freedom, component, distribution; descriptions in
    the list's ``dcc:description`` (one content per contribution, in order)."""
    lst = xb.dcc(parent, "list", refType=v.R_UNCERTAINTY_BUDGET)
    desc = xb.dcc(lst, "description")
    for c in budget:
        xb.dcc(desc, "content", c.description, lang="en")
    names = [c.name for c in budget]
    xb.list_quantity(lst, v.R_STANDARD_UNCERTAINTY, [v.mass_text(c.u_kg, unit) for c in budget], unit, labels=names)
    xb.chars_quantity(lst, v.R_DEGREES_OF_FREEDOM, [xb.dof_token(c.dof) for c in budget])
    xb.chars_quantity(lst, v.R_BUDGET_COMPONENT, [c.component.value for c in budget])
    xb.chars_quantity(lst, v.R_BUDGET_DISTRIBUTION, [c.distribution for c in budget])


def _budgets(rl: Element, points: Sequence[CalibrationPoint], unit: str) -> None:
    with_budget = [p for p in points if p.budget]
    if not with_budget:
        return
    data = _result(rl, v.R_UNCERTAINTY_BUDGET)
    for p in with_budget:
        lst = xb.dcc(data, "list")
        xb.real_quantity(lst, v.R_TEST_LOAD, v.mass_text(p.load_kg, unit), unit)
        _budget_list(lst, p.budget, unit)


def _error_curve(parent: Element, curve: ErrorCurve) -> None:
    lst = xb.dcc(parent, "list", refType=v.R_ERROR_CURVE)
    xb.text_block(lst, "description", {"en": curve.method})
    xb.chars_quantity(lst, v.R_CURVE_MODEL, [curve.model])
    xb.list_quantity(lst, v.R_CURVE_POWERS, [str(p) for p in curve.powers], v.ONE)
    xb.list_quantity(lst, v.R_CURVE_COEFFICIENTS, [v.plain(c) for c in curve.coefficients], v.ONE)
    flat = [v.plain(x) for row in curve.covariance for x in row]
    xb.list_quantity(lst, v.R_CURVE_COVARIANCE, flat, v.ONE)
    xb.real_quantity(lst, v.R_CHI2, v.plain(curve.chi2), v.ONE)
    xb.real_quantity(lst, v.R_DEGREES_OF_FREEDOM, str(curve.dof), v.ONE)
    xb.real_quantity(lst, v.R_U_APPROXIMATION, v.plain(curve.u_approx_kg), v.KILOGRAM)


def _in_use(rl: Element, iu: UncertaintyInUse, unit: str) -> None:
    data = _result(rl, v.R_UNCERTAINTY_IN_USE, iu.derivation)
    formula = xb.dcc(data, "formula", refType=v.R_UNCERTAINTY_IN_USE)
    xb.dcc(formula, "latex", r"U(W) = k\,\sqrt{\alpha^{2} + \beta^{2} R^{2}}")
    if not iu.corrected and iu.error_curve is not None:
        formula = xb.dcc(data, "formula", refType="hengqi_globalUncertaintyInUse")
        xb.dcc(formula, "latex", r"U_{gl}(W) = U(W) + \left|E_{appr}(R)\right|")
    lst = xb.dcc(data, "list")
    xb.real_quantity(lst, v.R_IN_USE_ALPHA, v.mass_text(iu.alpha_kg, unit), unit)
    xb.real_quantity(lst, v.R_IN_USE_BETA, v.plain(iu.beta), v.ONE)
    xb.real_quantity(lst, v.R_COVERAGE_FACTOR, v.plain(iu.k), v.ONE)
    xb.chars_quantity(lst, v.R_IN_USE_CORRECTED, ["true" if iu.corrected else "false"])
    xb.real_quantity(lst, v.R_RANGE_MAX, v.mass_text(iu.max_kg, unit), unit)
    if iu.budget:
        _budget_list(lst, iu.budget, unit)
    if iu.error_curve is not None:
        _error_curve(lst, iu.error_curve)
