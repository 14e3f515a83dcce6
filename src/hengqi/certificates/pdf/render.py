"""The human-readable calibration certificate as PDF (ReportLab), in English with Chinese.

Contents follow ISO/IEC 17025:2017, 7.8.2.1 and 7.8.4.1 (SECONDARY: the standard's text was read through
summaries): title; laboratory name and address; unique identification on every page with "Page x of y"; customer;
method; item identification; dates of receipt, calibration and issue; place of calibration; results with units,
expanded uncertainty U and coverage factor k (7.8.4.1 a); conditions (7.8.4.1 b); metrological traceability
(7.8.4.1 c); statements of conformity where made; the persons authorising the certificate; a statement that the
results relate only to the item calibrated.  The error curve is drawn with U(E) as bars.  The DCC can be embedded
as a file attachment (``certificate.dcc.xml``), so the machine-readable certificate travels with the PDF.
"""

from __future__ import annotations

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Image, KeepTogether, Spacer

from hengqi.certificates.admin import AdministrativeData
from hengqi.certificates.conformity import DECISION_RULE, assess_conformity
from hengqi.certificates.dcc.writer import certified_result
from hengqi.certificates.pdf import layout
from hengqi.certificates.pdf.blocks import Blocks, address_text, build_document, text_of
from hengqi.certificates.pdf.fonts import find_cjk_font, register_cjk_font
from hengqi.certificates.pdf.plot import error_plot_png
from hengqi.locale import NP_, Message, bilingual, translate_message
from hengqi.metrology.calibration.result import CalibrationResult, RangeKind, ReferenceWeightSet
from hengqi.metrology.reporting import (
    decimal_text,
    mass_units,
    natural_mass,
    places_of,
    plain_number,
    reported_error,
    reported_uncertainty,
)

__all__ = ["render_certificate_pdf"]

DCC_ATTACHMENT = "certificate.dcc.xml"
#: conformity statement (DCC ``conformity`` values) -> its words, English then Chinese from the catalogue
_VERDICT_WORDS = {
    "pass": NP_("certificate", "pass"),
    "fail": NP_("certificate", "fail"),
    "conditionalPass": NP_("certificate", "conditional pass"),
    "conditionalFail": NP_("certificate", "conditional fail"),
}
VERDICTS = {key: f"{m.text} {translate_message('zh', m)}" for key, m in _VERDICT_WORDS.items()} | {
    "noPass": "no pass",
    "noFail": "no fail",
}

#: how an instrument's ranges divide its weighing range -> its words (English, Chinese from the catalogue)
_RANGE_KINDS: dict[str, Message] = {
    RangeKind.MULTI_INTERVAL: NP_("certificate", "multi-interval instrument"),
    RangeKind.MULTIPLE_RANGE: NP_("certificate", "multiple-range instrument"),
    "": NP_("certificate", "instrument with several ranges"),
}


#: The procedure in words, and the other tests done (repeatability, eccentricity) -> what the certificate adds.
_PROCEDURE = NP_(
    "certificate",
    "Test loads of reference weights were applied and the indications read; the error of indication is "
    "E = I − m_ref, the indication I (net of the no-load indication) minus the conventional mass m_ref of the load.",
)
_ALSO_TESTED = {
    (True, True): NP_("certificate", "Repeatability and eccentricity were tested."),
    (True, False): NP_("certificate", "Repeatability was tested."),
    (False, True): NP_("certificate", "Eccentricity was tested."),
}
#: The conformity statement: what is compared, and the decision rule's bands (stage, rules and the rule's name
#: are printed between them in the English, as the assessment names them).
_COMPARED = NP_("certificate", "Errors of indication against the MPE")
_BANDS = NP_(
    "certificate",
    "pass |E| + U ≤ MPE; conditional pass |E| ≤ MPE < |E| + U; conditional fail |E| − U ≤ MPE < |E|; "
    "fail MPE < |E| − U.",
)


class _Builder(Blocks):
    def __init__(self, result: CalibrationResult, admin: AdministrativeData, font: str) -> None:
        super().__init__(font)
        self.res = result
        self.admin = admin
        self.unit, self.eunit = mass_units(result.instrument.max_kg, result.instrument.d_kg)
        self.sym, self.esym = self.unit, self.eunit
        self.d_dec = places_of(result.instrument.d_kg, self.unit)
        self.e_dec = places_of(result.instrument.d_kg, self.eunit)
        request = admin.conformity
        self.assessment = (
            assess_conformity(result, stage=request.stage, rules=request.rules) if request is not None else None
        )

    def heading(self, text: Message) -> None:
        """A heading in English and Chinese (the Chinese from the catalogue)."""
        self.story.append(self.p(f"{escape(text.text)}  {escape(translate_message('zh', text))}", "h2"))

    @staticmethod
    def label(text: Message) -> str:
        """A row label, English above Chinese."""
        return f"{escape(text.text)}<br/>{escape(translate_message('zh', text))}"

    @staticmethod
    def bi(text: Message) -> str:
        """English and Chinese side by side (a column header, a value)."""
        return f"{escape(text.text)} {escape(translate_message('zh', text))}"

    def m(self, value_kg: Decimal | float) -> str:
        """A load or indication in the load unit, to the scale interval's resolution."""
        return decimal_text(value_kg, self.unit, places=self.d_dec)

    def em(self, value_kg: Decimal | float) -> str:
        """A deviation in the error unit, to the scale interval's resolution."""
        return decimal_text(value_kg, self.eunit, places=self.e_dec)

    def nat(self, value_kg: Decimal, unit: str) -> str:
        """A characteristic (Max, Min, d, e) as written naturally: ``220 g``, ``0.1 mg``."""
        return f"{natural_mass(value_kg, unit)} {unit}"

    # -- sections ------------------------------------------------------------------------------------------------

    def title(self) -> None:
        a, info = self.admin, self.admin.certificate
        self.story += [
            self.p(escape(a.laboratory.name["en"]), "subtitle"),
            self.p(escape(a.laboratory.name.get("zh", "")), "subtitle"),
            Spacer(1, 4 * mm),
            self.p(escape(info.title.get("zh", "")), "title"),
            self.p(escape(info.title["en"]), "title"),
            Spacer(1, 2 * mm),
            self.p(self.bi(NP_("certificate", "Certificate No.")) + f": <b>{escape(info.number)}</b>", "subtitle"),
            Spacer(1, 4 * mm),
        ]

    def administrative(self) -> None:
        a, info, inst = self.admin, self.admin.certificate, self.res.instrument
        lab = a.laboratory
        lab_text = f"{text_of(lab.name)}<br/>{address_text(lab.address)}"
        if lab.accreditation:
            body = f" ({escape(lab.accreditation_body)})" if lab.accreditation_body else ""
            lab_text += f"<br/>Accreditation 认可编号: {escape(lab.accreditation)}{body}"
        self.heading(NP_("certificate", "Laboratory and customer"))
        self.kv_table(
            [
                (self.label(NP_("certificate", "Calibration laboratory")), lab_text),
                (
                    self.label(NP_("certificate", "Customer")),
                    f"{text_of(a.customer.name)}<br/>{address_text(a.customer.address)}",
                ),
            ]
        )
        self.heading(NP_("certificate", "Item calibrated"))
        rows = [(self.label(NP_("certificate", "Item")), text_of(a.item.name))]
        if inst.manufacturer or inst.model:
            rows.append(
                (
                    self.label(NP_("certificate", "Manufacturer, model")),
                    escape(f"{inst.manufacturer} {inst.model}".strip()),
                )
            )
        if inst.serial_number:
            rows.append((self.label(NP_("certificate", "Serial number")), escape(inst.serial_number)))
        if inst.identifier:
            rows.append((self.label(NP_("certificate", "Identifier")), escape(inst.identifier)))
        for ident in a.item.identifications:
            rows.append((text_of(ident.name), escape(ident.value)))
        chars = f"Max = {self.nat(inst.max_kg, self.unit)}"
        if inst.ranges:  # several ranges: Max1 / Max2 / ..., d1 / d2 / ... (e likewise)
            chars = f"{self.bi(_RANGE_KINDS[inst.kind or ''])}, Max = " + " / ".join(
                self.nat(r.max_kg, self.unit) for r in inst.ranges
            )
        if inst.min_kg is not None:
            chars += f", Min = {self.nat(inst.min_kg, self.unit)}"
        if inst.ranges:
            chars += ", d = " + " / ".join(self.nat(r.d_kg, self.eunit) for r in inst.ranges)
            if all(r.e_kg is not None for r in inst.ranges):
                chars += ", e = " + " / ".join(self.nat(r.e_kg, self.eunit) for r in inst.ranges if r.e_kg)
        else:
            chars += f", d = {self.nat(inst.d_kg, self.eunit)}"
            if inst.e_kg is not None:
                chars += f", e = {self.nat(inst.e_kg, self.eunit)}"
        if inst.accuracy_class:
            chars += f", class 准确度等级 {escape(inst.accuracy_class)}"
        rows.append((self.label(NP_("certificate", "Characteristics")), chars))
        self.kv_table(rows)
        self.heading(NP_("certificate", "Dates and place"))
        begin = info.begin_date or self.res.calibration_date
        end = info.end_date or self.res.calibration_date
        when = begin.isoformat() if begin == end else f"{begin.isoformat()} – {end.isoformat()}"
        rows = []
        if info.receipt_date:
            rows.append((self.label(NP_("certificate", "Date of receipt")), info.receipt_date.isoformat()))
        rows += [
            (self.label(NP_("certificate", "Date of calibration")), when),
            (self.label(NP_("certificate", "Date of issue")), info.issue_date.isoformat()),
        ]
        places = {
            "laboratory": NP_("certificate", "at the laboratory"),
            "customer": NP_("certificate", "at the customer's site"),
        }
        where = places.get(info.performance_location)
        place = self.bi(where) if where is not None else info.performance_location
        if self.res.location:
            place += f" — {escape(self.res.location)}"
        rows.append((self.label(NP_("certificate", "Place of calibration")), place))
        self.kv_table(rows)

    def _conditions(self) -> list[str]:
        env = self.res.environment
        cond = []
        if env.temperature_start_c is not None:
            end = f" → {env.temperature_end_c:g} °C" if env.temperature_end_c is not None else ""
            cond.append(f"temperature 温度 {env.temperature_start_c:g} °C{end}")
        if env.relative_humidity_percent is not None:
            cond.append(f"relative humidity 相对湿度 {env.relative_humidity_percent:g} %")
        if env.pressure_hpa is not None:
            cond.append(f"air pressure 气压 {env.pressure_hpa:g} hPa")
        if env.air_density_kg_m3 is not None:
            cond.append(f"air density 空气密度 {plain_number(env.air_density_kg_m3, 5)} kg/m³")
        for c in self.admin.conditions:
            cond.append(f"{text_of(c.name)}: {text_of(c.text)}")
        return cond

    @staticmethod
    def _weight(w: ReferenceWeightSet) -> str:
        """``20 × 1000 kg (M1-1t)``: count, nominal value and identifier of one entry."""
        what = f"{w.quantity} × " if w.quantity > 1 else ""
        if w.nominal_kg is None:
            return w.identifier
        unit = "kg" if w.nominal_kg >= 1 else ("g" if w.nominal_kg >= Decimal("0.001") else "mg")
        return f"{what}{natural_mass(w.nominal_kg, unit)} {unit} ({w.identifier})"

    def _weights(self) -> str:
        """The reference weights, grouped by class and certificate: ``20 × 1000 kg (M1-1t), class M1``."""
        groups: dict[tuple[str, str], list[str]] = {}
        for w in self.res.weights:
            groups.setdefault((w.weight_class or "", w.certificate), []).append(self._weight(w))
        parts = []
        for (weight_class, certificate), items in groups.items():
            text = ", ".join(items)
            if weight_class:
                text += f"; class 等级 {weight_class}"
            if certificate:
                text += f"; certificate 证书 {certificate}"
            parts.append(escape(text))
        return "<br/>".join(parts)

    def method(self) -> None:
        cond = self._conditions()
        if cond:
            self.heading(NP_("certificate", "Method, traceability and conditions"))
        else:
            self.heading(NP_("certificate", "Method and traceability"))
        rows = []
        norms = [self.res.method] + [n for m in self.admin.methods for n in m.norms if n != self.res.method]
        names = "; ".join(text_of(m.name) for m in self.admin.methods)
        names = names or "Calibration of a non-automatic weighing instrument"
        rows.append(
            (self.label(NP_("certificate", "Method")), f"{names}<br/>{escape('; '.join(dict.fromkeys(norms)))}")
        )
        tested = (bool(self.res.repeatability), self.res.eccentricity is not None)
        also = _ALSO_TESTED.get(tested)
        procedure = _PROCEDURE
        rows.append(
            (
                self.label(NP_("certificate", "Procedure")),
                procedure.text
                + ("" if also is None else " " + also.text)
                + " "
                + translate_message("zh", procedure)
                + ("" if also is None else translate_message("zh", also)),
            )
        )
        substituted = [p for p in self.res.points if p.contribution("substitution-rounding") is not None]
        if substituted:
            loads = ", ".join(f"{self.m(p.load_kg)} {self.sym}" for p in substituted)
            rows.append(
                (
                    self.label(NP_("certificate", "Substitution loads")),
                    escape(
                        bilingual(
                            NP_(
                                "certificate",
                                "At {loads} the test load was built up by substitution: the reference weights were "
                                "replaced by a substitute load (ballast) until the same indication was reached, and "
                                "the reference weights were then placed again on top; m_ref includes the substitute "
                                "loads.",
                            ).format(loads=loads)
                        )
                    ),
                )
            )
        if self.res.weights:
            rows.append((self.label(NP_("certificate", "Reference weights")), self._weights()))
        rows.append((self.label(NP_("certificate", "Traceability")), text_of(self.admin.traceability)))
        if cond:
            rows.append((self.label(NP_("certificate", "Conditions")), "; ".join(cond)))
        if self.res.operator:
            rows.append((self.label(NP_("certificate", "Calibrated by")), escape(self.res.operator)))
        self.kv_table(rows)

    def errors(self, plot_png: bytes | None) -> None:
        pts = self.res.points
        if not pts:
            return
        start = len(self.story)
        self.heading(NP_("certificate", "Errors of indication"))
        header = [
            self.bi(NP_("certificate", "Test load")) + f" / {self.sym}",
            f"m_ref 折算质量 / {self.sym}",
            self.bi(NP_("certificate", "Indication I")) + f" / {self.sym}",
            self.bi(NP_("certificate", "Error E")) + f" / {self.esym}",
            f"U(E) / {self.esym}",
            "k",
        ]
        rows = []
        for p in pts:
            r = reported_error(p.error_kg, p.U_kg, p.k)
            rows.append(
                [
                    self.m(p.load_kg),
                    decimal_text(p.reference_mass_kg, self.unit),
                    self.m(p.indication_kg),
                    decimal_text(r.error_kg, self.eunit),
                    decimal_text(r.U_kg, self.eunit),
                    str(r.k),
                ]
            )
        if all(p.d_kg is not None for p in pts):  # several ranges: the d of the range each point was read in
            header.insert(3, f"d / {self.esym}")
            for row, p in zip(rows, pts, strict=True):
                assert p.d_kg is not None
                row.insert(3, natural_mass(p.d_kg, self.eunit))
        if self.assessment is not None:
            header += [
                self.bi(NP_("certificate", "MPE")) + f" / {self.esym}",
                self.bi(NP_("certificate", "Conformity")),
            ]
            for row, pc in zip(rows, self.assessment.points, strict=True):
                row += [natural_mass(pc.mpe_kg, self.eunit), VERDICTS[pc.status]]
        w = (layout.PAGE_W - 2 * layout.MARGIN) / len(header)
        self.story.append(self.grid(header, rows, [w] * len(header)))
        self.story.append(
            self.p(
                escape(
                    bilingual(
                        NP_(
                            "certificate",
                            "m_ref is the conventional mass of the test load; E = I − m_ref. U(E) is the expanded "
                            "uncertainty U = k·u(E) for a coverage probability of about 95 % (normal distribution), "
                            "rounded up to two significant digits; E is rounded to the same decimal place.",
                        )
                    )
                ),
                "small",
            )
        )
        if len(rows) <= 15:
            block = self.story[start:]
            del self.story[start:]
            self.story.append(KeepTogether(block))
        if plot_png:
            img = Image(io.BytesIO(plot_png), width=165 * mm, height=165 * mm * 2.6 / 6.4)
            self.story.append(KeepTogether([Spacer(1, 2 * mm), img]))

    def repeatability_and_eccentricity(self) -> None:
        if self.res.repeatability:
            start = len(self.story)
            self.heading(NP_("certificate", "Repeatability"))
            rows = [
                [
                    self.m(r.load_kg),
                    str(len(r.readings)),
                    decimal_text(r.mean_kg, self.unit, places=self.d_dec + 1),
                    decimal_text(reported_uncertainty(r.s_kg), self.eunit),
                ]
                for r in self.res.repeatability
            ]
            header = [
                self.bi(NP_("certificate", "Load")) + f" / {self.sym}",
                "n",
                self.bi(NP_("certificate", "Mean")) + f" / {self.sym}",
                f"s 标准偏差 / {self.esym}",
            ]
            self.story.append(self.grid(header, rows))
            block = self.story[start:]
            del self.story[start:]
            self.story.append(KeepTogether(block))
        ecc = self.res.eccentricity
        if ecc is not None:
            start = len(self.story)
            self.heading(NP_("certificate", "Eccentricity"))
            rows = [
                [pos, self.m(i), self.em(dv)]
                for pos, i, dv in zip(ecc.positions, ecc.indications_kg, ecc.deviations_kg, strict=True)
            ]
            header = [
                self.bi(NP_("certificate", "Position")),
                self.bi(NP_("certificate", "Indication")) + f" / {self.sym}",
                f"ΔI 偏差 / {self.esym}",
            ]
            self.story.append(self.grid(header, rows, text_first=True))
            self.story.append(
                self.p(
                    f"Test load 试验载荷 {self.m(ecc.load_kg)} {self.sym}; largest deviation 最大偏差 "
                    f"|ΔI|max = {self.em(ecc.max_deviation_kg)} {self.esym}.",
                    "small",
                )
            )
            block = self.story[start:]
            del self.story[start:]
            self.story.append(KeepTogether(block))

    def in_use(self) -> None:
        iu = self.res.uncertainty_in_use
        mws = self.res.minimum_weights
        if iu is None and not mws:
            return
        start = len(self.story)
        self.heading(NP_("certificate", "Uncertainty in use and minimum weight"))
        if iu is not None:
            alpha = decimal_text(reported_uncertainty(iu.alpha_kg), self.eunit)
            text = (
                f"U(W) = k·√(α² + β²·R²), k = {iu.k:.2f}, α = {alpha} {self.esym}, β = {plain_number(iu.beta, 2)}, "
                f"for 0 ≤ R ≤ {natural_mass(Decimal(repr(iu.max_kg)), self.unit)} {self.sym} (R: the reading)."
            )
            if not iu.corrected and iu.error_curve is not None:
                text += " " + bilingual(NP_("certificate", "Readings not corrected: U_gl(W) = U(W) + |E_appr(R)|."))
            self.story.append(self.p(escape(text)))
            self.story.append(self.p(escape(iu.derivation + "."), "small"))
        for mw in mws:
            value = decimal_text(Decimal(repr(mw.value_kg)), self.unit, places=self.d_dec)
            name = "USP <41>" if mw.method.value == "usp-41" else "EURAMET cg-18"
            self.story.append(
                self.p(
                    escape(
                        f"Minimum weight 最小称量值 ({name}): {value} {self.sym} "
                        f"(tolerance 允差 {plain_number(mw.tolerance * 100)} %, safety factor 安全系数 "
                        f"{plain_number(mw.safety_factor)}): {mw.rule}."
                    )
                )
            )
        block = self.story[start:]
        del self.story[start:]
        self.story.append(KeepTogether(block))

    def statements(self) -> None:
        self.heading(NP_("certificate", "Statements"))
        a = self.assessment
        if a is not None:
            self.story.append(
                self.p(
                    f"<b>{escape(VERDICTS[a.status])}</b> — "
                    + escape(
                        f"{_COMPARED.text} for {a.stage} verification ({a.rule}); decision "
                        f"rule: {DECISION_RULE}: {_BANDS.text} "
                        + translate_message("zh", _COMPARED)
                        + translate_message("zh", _BANDS)
                    ),
                    "statement",
                )
            )
        for st in self.admin.statements:
            verdict = VERDICTS.get(st.conformity or "", st.conformity or "")
            norms = f" ({escape('; '.join(st.norms))})" if st.norms else ""
            lead = f"<b>{escape(verdict)}</b> — " if verdict else ""
            self.story.append(self.p(f"{lead}{text_of(st.text)}{norms}", "statement"))
        for note in self.res.notes:
            self.story.append(self.p(escape(note), "small"))
        self.story.append(
            self.p(
                escape(
                    bilingual(
                        NP_(
                            "certificate",
                            "The results relate only to the item calibrated, at the time of calibration. This "
                            "certificate shall not be reproduced except in full without the written approval of the "
                            "laboratory.",
                        )
                    )
                ),
                "small",
            )
        )

    def signatories(self, signed: bool, verify_url: str | None = None) -> None:
        title = NP_("certificate", "Authorisation")
        heading = (title.text, translate_message("zh", title))
        self.authorisation(heading, self.admin.persons, signed=signed, verify_url=verify_url)


def render_certificate_pdf(
    result: CalibrationResult,
    admin: AdministrativeData,
    *,
    dcc_xml: bytes | None = None,
    will_be_signed: bool = False,
    plot: bool = True,
    draft: bool = False,
    verify_url: str | None = None,
) -> bytes:
    """The certificate as PDF bytes; ``dcc_xml`` is attached as ``certificate.dcc.xml`` when given; a ``draft``
    says "DRAFT" across every page; ``verify_url`` (the public verification page of this certificate) is printed
    with its QR code beside the signatories."""
    res = certified_result(result, admin)
    font = register_cjk_font()
    b = _Builder(res, admin, font)
    png = error_plot_png(res, b.unit, b.eunit, str(find_cjk_font())) if plot and res.points else None
    b.title()
    b.administrative()
    b.method()
    b.errors(png)
    b.repeatability_and_eccentricity()
    b.in_use()
    b.statements()
    b.signatories(will_be_signed, verify_url)
    pdf = build_document(b.story, font, admin, subject=f"Calibration of {admin.item.name['en']}", draft=draft)
    return attach_file(pdf, DCC_ATTACHMENT, dcc_xml, "application/xml") if dcc_xml is not None else pdf


def attach_file(
    pdf: bytes,
    name: str,
    data: bytes,
    mime_type: str,
    *,
    description: str = "Digital Calibration Certificate (PTB DCC 3.3.0)",
) -> bytes:
    """``pdf`` with ``data`` embedded as a file attachment (PDF 1.7, 7.11.4 embedded file streams) via pyHanko."""
    from pyhanko.pdf_utils import embed
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf)))
    stream = embed.EmbeddedFileObject.from_file_data(writer, data, mime_type=mime_type)
    spec = embed.FileSpec(
        file_spec_string=name,
        file_name=name,
        embedded_data=stream,
        description=description,
    )
    embed.embed_file(writer, spec)
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()
