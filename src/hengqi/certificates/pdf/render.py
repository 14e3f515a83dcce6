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
from collections.abc import Sequence
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.doctemplate import LayoutError

from hengqi import __version__
from hengqi.certificates.admin import Address, AdministrativeData
from hengqi.certificates.conformity import DECISION_RULE, assess_conformity
from hengqi.certificates.dcc.writer import certified_result
from hengqi.certificates.pdf import layout
from hengqi.certificates.pdf.fonts import find_cjk_font, register_cjk_font
from hengqi.certificates.pdf.plot import error_plot_png
from hengqi.errors import InputError
from hengqi.metrology.calibration.result import CalibrationResult, ReferenceWeightSet
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
VERDICTS = {
    "pass": "pass 合格",
    "fail": "fail 不合格",
    "conditionalPass": "conditional pass 有条件合格",
    "conditionalFail": "conditional fail 有条件不合格",
    "noPass": "no pass",
    "noFail": "no fail",
}


def _t(texts: dict[str, str]) -> str:
    en, zh = texts.get("en", ""), texts.get("zh")
    return escape(f"{en} / {zh}" if zh else en)


def _address(a: Address) -> str:
    parts = [" ".join(x for x in (a.street, a.street_no) if x), " ".join(x for x in (a.post_code, a.city) if x)]
    parts += [x for x in (a.state, a.country) if x]
    return escape(", ".join(p for p in parts if p))


class _Builder:
    def __init__(self, result: CalibrationResult, admin: AdministrativeData, font: str) -> None:
        self.res = result
        self.admin = admin
        self.font = font
        self.s = layout.make_styles(font)
        self.unit, self.eunit = mass_units(result.instrument.max_kg, result.instrument.d_kg)
        self.sym, self.esym = self.unit, self.eunit
        self.d_dec = places_of(result.instrument.d_kg, self.unit)
        self.e_dec = places_of(result.instrument.d_kg, self.eunit)
        self.story: list[object] = []
        request = admin.conformity
        self.assessment = (
            assess_conformity(result, stage=request.stage, rules=request.rules) if request is not None else None
        )

    def p(self, text: str, style: str = "body") -> Paragraph:
        return Paragraph(text, getattr(self.s, style))

    def h2(self, en: str, zh: str) -> None:
        self.story.append(self.p(f"{escape(en)}  {escape(zh)}", "h2"))

    def kv_table(self, rows: Sequence[tuple[str, str]]) -> None:
        data = [[self.p(k, "cell"), self.p(v, "cell")] for k, v in rows]
        table = Table(data, colWidths=[55 * mm, None])
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), self.font),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (0, -1), layout.SHADE),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, layout.RULE),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        self.story.append(table)

    def grid(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float] | None = None,
        *,
        text_first: bool = False,
    ) -> Table:
        data = [[self.p(h, "head") for h in header]]
        data += [
            [self.p(escape(c), "cell" if text_first and i == 0 else "cell_right") for i, c in enumerate(row)]
            for row in rows
        ]
        table = Table(data, colWidths=list(widths) if widths else None, repeatRows=1, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), self.font),
                    ("BACKGROUND", (0, 0), (-1, 0), layout.ACCENT),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, layout.SHADE]),
                    ("LINEBELOW", (0, -1), (-1, -1), 0.6, layout.ACCENT),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return table

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
            self.p(f"Certificate No. 证书编号: <b>{escape(info.number)}</b>", "subtitle"),
            Spacer(1, 4 * mm),
        ]

    def administrative(self) -> None:
        a, info, inst = self.admin, self.admin.certificate, self.res.instrument
        lab = a.laboratory
        lab_text = f"{_t(lab.name)}<br/>{_address(lab.address)}"
        if lab.accreditation:
            body = f" ({escape(lab.accreditation_body)})" if lab.accreditation_body else ""
            lab_text += f"<br/>Accreditation 认可编号: {escape(lab.accreditation)}{body}"
        self.h2("Laboratory and customer", "实验室与客户")
        self.kv_table(
            [
                ("Calibration laboratory<br/>校准实验室", lab_text),
                ("Customer<br/>委托方", f"{_t(a.customer.name)}<br/>{_address(a.customer.address)}"),
            ]
        )
        self.h2("Item calibrated", "被校器具")
        rows = [("Item<br/>器具名称", _t(a.item.name))]
        if inst.manufacturer or inst.model:
            rows.append(("Manufacturer, model<br/>制造厂、型号", escape(f"{inst.manufacturer} {inst.model}".strip())))
        if inst.serial_number:
            rows.append(("Serial number<br/>出厂编号", escape(inst.serial_number)))
        if inst.identifier:
            rows.append(("Identifier<br/>器具编号", escape(inst.identifier)))
        for ident in a.item.identifications:
            rows.append((_t(ident.name), escape(ident.value)))
        chars = f"Max = {self.nat(inst.max_kg, self.unit)}"
        if inst.min_kg is not None:
            chars += f", Min = {self.nat(inst.min_kg, self.unit)}"
        chars += f", d = {self.nat(inst.d_kg, self.eunit)}"
        if inst.e_kg is not None:
            chars += f", e = {self.nat(inst.e_kg, self.eunit)}"
        if inst.accuracy_class:
            chars += f", class 准确度等级 {escape(inst.accuracy_class)}"
        rows.append(("Characteristics<br/>计量特性", chars))
        self.kv_table(rows)
        self.h2("Dates and place", "日期与地点")
        begin = info.begin_date or self.res.calibration_date
        end = info.end_date or self.res.calibration_date
        when = begin.isoformat() if begin == end else f"{begin.isoformat()} – {end.isoformat()}"
        rows = []
        if info.receipt_date:
            rows.append(("Date of receipt<br/>接收日期", info.receipt_date.isoformat()))
        rows += [
            ("Date of calibration<br/>校准日期", when),
            ("Date of issue<br/>签发日期", info.issue_date.isoformat()),
        ]
        place = {"laboratory": "at the laboratory 实验室内", "customer": "at the customer's site 客户现场"}.get(
            info.performance_location, info.performance_location
        )
        if self.res.location:
            place += f" — {escape(self.res.location)}"
        rows.append(("Place of calibration<br/>校准地点", place))
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
            cond.append(f"{_t(c.name)}: {_t(c.text)}")
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
            self.h2("Method, traceability and conditions", "校准方法、溯源性与环境条件")
        else:
            self.h2("Method and traceability", "校准方法与溯源性")
        rows = []
        norms = [self.res.method] + [n for m in self.admin.methods for n in m.norms if n != self.res.method]
        names = (
            "; ".join(_t(m.name) for m in self.admin.methods) or "Calibration of a non-automatic weighing instrument"
        )
        rows.append(("Method<br/>校准方法", f"{names}<br/>{escape('; '.join(dict.fromkeys(norms)))}"))
        tested_en = [
            x
            for x, done in (
                ("repeatability", bool(self.res.repeatability)),
                ("eccentricity", self.res.eccentricity is not None),
            )
            if done
        ]
        tested_zh = [
            x
            for x, done in (("重复性", bool(self.res.repeatability)), ("偏载", self.res.eccentricity is not None))
            if done
        ]
        also_en = (
            f" {' and '.join(tested_en).capitalize()} were tested."
            if len(tested_en) == 2
            else (f" {tested_en[0].capitalize()} was tested." if tested_en else "")
        )
        also_zh = f"另做{'和'.join(tested_zh)}测试。" if tested_zh else ""
        rows.append(
            (
                "Procedure<br/>校准程序",
                "Test loads of reference weights were applied and the indications read; the error of indication is "
                "E = I − m_ref, the indication I (net of the no-load indication) minus the conventional mass m_ref "
                f"of the load.{also_en} 施加参考砝码作为试验载荷并读取示值；示值误差 E = I − m_ref，"
                f"即示值（扣除空载示值）减去载荷的折算质量。{also_zh}",
            )
        )
        substituted = [p for p in self.res.points if p.contribution("substitution-rounding") is not None]
        if substituted:
            loads = ", ".join(f"{self.m(p.load_kg)} {self.sym}" for p in substituted)
            rows.append(
                (
                    "Substitution loads<br/>替代载荷",
                    escape(
                        f"At {loads} the test load was built up by substitution: the reference weights were "
                        "replaced by a substitute load (ballast) until the same indication was reached, and the "
                        "reference weights were then placed again on top; m_ref includes the substitute loads. "
                        f"在 {loads} 处采用替代法：用替代载荷替换参考砝码至示值相同，再加放参考砝码；"
                        "m_ref 包含替代载荷。"
                    ),
                )
            )
        if self.res.weights:
            rows.append(("Reference weights<br/>参考砝码", self._weights()))
        rows.append(("Traceability<br/>溯源性", _t(self.admin.traceability)))
        if cond:
            rows.append(("Conditions<br/>环境条件", "; ".join(cond)))
        if self.res.operator:
            rows.append(("Calibrated by<br/>校准员", escape(self.res.operator)))
        self.kv_table(rows)

    def errors(self, plot_png: bytes | None) -> None:
        pts = self.res.points
        if not pts:
            return
        start = len(self.story)
        self.h2("Errors of indication", "示值误差")
        header = [
            f"Test load 试验载荷 / {self.sym}",
            f"m_ref 折算质量 / {self.sym}",
            f"Indication I 示值 / {self.sym}",
            f"Error E 误差 / {self.esym}",
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
        if self.assessment is not None:
            header += [f"MPE 最大允许误差 / {self.esym}", "Conformity 符合性"]
            for row, pc in zip(rows, self.assessment.points, strict=True):
                row += [natural_mass(pc.mpe_kg, self.eunit), VERDICTS[pc.status]]
        w = (layout.PAGE_W - 2 * layout.MARGIN) / len(header)
        self.story.append(self.grid(header, rows, [w] * len(header)))
        self.story.append(
            self.p(
                "m_ref is the conventional mass of the test load; E = I − m_ref. U(E) is the expanded uncertainty "
                "U = k·u(E) for a coverage probability of about 95 % (normal distribution), rounded up to two "
                "significant digits; E is rounded to the same decimal place. "
                "m_ref 为试验载荷的折算质量；E = I − m_ref。扩展不确定度 U = k·u(E)，包含概率约为 95 %（正态分布），"
                "向上修约至两位有效数字；E 修约至同一位。",
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
            self.h2("Repeatability", "重复性")
            rows = [
                [
                    self.m(r.load_kg),
                    str(len(r.readings)),
                    decimal_text(r.mean_kg, self.unit, places=self.d_dec + 1),
                    decimal_text(reported_uncertainty(r.s_kg), self.eunit),
                ]
                for r in self.res.repeatability
            ]
            header = [f"Load 载荷 / {self.sym}", "n", f"Mean 平均值 / {self.sym}", f"s 标准偏差 / {self.esym}"]
            self.story.append(self.grid(header, rows))
            block = self.story[start:]
            del self.story[start:]
            self.story.append(KeepTogether(block))
        ecc = self.res.eccentricity
        if ecc is not None:
            start = len(self.story)
            self.h2("Eccentricity", "偏载")
            rows = [
                [pos, self.m(i), self.em(dv)]
                for pos, i, dv in zip(ecc.positions, ecc.indications_kg, ecc.deviations_kg, strict=True)
            ]
            header = ["Position 位置", f"Indication 示值 / {self.sym}", f"ΔI 偏差 / {self.esym}"]
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
        self.h2("Uncertainty in use and minimum weight", "使用中的不确定度与最小称量值")
        if iu is not None:
            alpha = decimal_text(reported_uncertainty(iu.alpha_kg), self.eunit)
            text = (
                f"U(W) = k·√(α² + β²·R²), k = {iu.k:.2f}, α = {alpha} {self.esym}, β = {plain_number(iu.beta, 2)}, "
                f"for 0 ≤ R ≤ {natural_mass(Decimal(repr(iu.max_kg)), self.unit)} {self.sym} (R: the reading)."
            )
            if not iu.corrected and iu.error_curve is not None:
                text += (
                    " Readings not corrected: U_gl(W) = U(W) + |E_appr(R)|. 读数未修正时 U_gl(W) = U(W) + |E_appr(R)|。"
                )
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
        self.h2("Statements", "声明")
        a = self.assessment
        if a is not None:
            self.story.append(
                self.p(
                    f"<b>{escape(VERDICTS[a.status])}</b> — "
                    + escape(
                        f"Errors of indication against the MPE for {a.stage} verification ({a.rule}); decision "
                        f"rule: {DECISION_RULE}: pass |E| + U ≤ MPE; conditional pass |E| ≤ MPE < |E| + U; "
                        "conditional fail |E| − U ≤ MPE < |E|; fail MPE < |E| − U. "
                        "示值误差与最大允许误差比较，判定规则以扩展不确定度 U 为保护带。"
                    ),
                    "statement",
                )
            )
        for st in self.admin.statements:
            verdict = VERDICTS.get(st.conformity or "", st.conformity or "")
            norms = f" ({escape('; '.join(st.norms))})" if st.norms else ""
            lead = f"<b>{escape(verdict)}</b> — " if verdict else ""
            self.story.append(self.p(f"{lead}{_t(st.text)}{norms}", "statement"))
        for note in self.res.notes:
            self.story.append(self.p(escape(note), "small"))
        self.story.append(
            self.p(
                "The results relate only to the item calibrated, at the time of calibration. "
                "This certificate shall not "
                "be reproduced except in full without the written approval of the laboratory. "
                "校准结果仅对被校器具在校准时有效。未经实验室书面批准，不得部分复制本证书。",
                "small",
            )
        )

    def signatories(self, signed: bool, verify_url: str | None = None) -> None:
        start = len(self.story)
        self.h2("Authorisation", "批准")
        rows = []
        for person in self.admin.persons:
            role = _t(person.role) if person.role else ""
            mark = " (main signer 签发人)" if person.main_signer else ""
            rows.append(
                [
                    self.p(escape(person.name) + mark, "cell"),
                    self.p(role, "cell"),
                    self.p("signed electronically 电子签名" if signed and person.main_signer else "", "cell"),
                ]
            )
        table = Table(rows, colWidths=[60 * mm, 60 * mm, None])
        table.setStyle(
            TableStyle([("FONTNAME", (0, 0), (-1, -1), self.font), ("LINEBELOW", (0, 0), (-1, -1), 0.25, layout.RULE)])
        )
        self.story.append(table)
        self.story.append(Spacer(1, 3 * mm))
        if verify_url is not None:
            from hengqi.certificates.pdf.qr import drawing

            text = self.p(
                "Check that this certificate is current and that this file is genuine: scan the code or open "
                f"{escape(verify_url)}<br/>扫描二维码或打开上述网址，核验本证书是否有效及本文件是否为原件。",
                "small",
            )
            qr = Table([[drawing(verify_url, 24 * mm), text]], colWidths=[28 * mm, None])
            qr.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("FONTNAME", (0, 0), (-1, -1), self.font)]))
            self.story.append(qr)
        self.story.append(self.p(f"Issued with hengqi {escape(__version__)}. — End of certificate 证书结束 —", "small"))
        block = self.story[start:]
        del self.story[start:]
        self.story.append(KeepTogether(block))


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
    out = io.BytesIO()
    info = admin.certificate
    doc = SimpleDocTemplate(
        out,
        pagesize=layout.PAGE_SIZE,
        leftMargin=layout.MARGIN,
        rightMargin=layout.MARGIN,
        topMargin=layout.MARGIN + 4 * mm,
        bottomMargin=layout.MARGIN,
        title=f"{info.title['en']} {info.number}",
        author=admin.laboratory.name["en"],
        subject=f"Calibration of {admin.item.name['en']}",
        creator=f"hengqi {__version__}",
        lang="en",
    )
    try:
        doc.build(
            b.story, canvasmaker=layout.numbered_canvas(font, info.number, admin.laboratory.name["en"], draft=draft)
        )
    except (LayoutError, ValueError) as err:  # reportlab: a table cell or paragraph that no page can hold
        raise InputError(
            "pdf", "a text is too long to lay out on an A4 page; shorten the longest name, identifier or note"
        ) from err
    pdf = out.getvalue()
    return attach_file(pdf, DCC_ATTACHMENT, dcc_xml, "application/xml") if dcc_xml is not None else pdf


def attach_file(pdf: bytes, name: str, data: bytes, mime_type: str) -> bytes:
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
        description="Digital Calibration Certificate (PTB DCC 3.3.0)",
    )
    embed.embed_file(writer, spec)
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()
