"""The verification certificate as PDF (ReportLab), in English with Chinese: what a passed verification issues.

A verification certificate (检定证书) states that the instrument met the requirements of a named regulation at a
named stage; a failed verification gets a notice of the verification result (检定结果通知书) instead, naming the
tests that failed (the usual split in Chinese legal metrology, JJF 1002 terms; SECONDARY: read through summaries).
The results are grouped by test, each with its verdict and every check with the value found, the limit and the
clause applied (OIML R 76-1:2006 Annex A, or the record's rule set); numbers are in the instrument's units to the
resolution the test needs.  Page furniture as on the calibration certificate (ISO/IEC 17025:2017 7.8.2.1:
identification and "Page x of y" on every page, DRAFT on every page of a draft; SECONDARY).  The evaluated record
(``hengqi verify --json``) can travel inside the PDF as ``verification-result.json``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer

from hengqi.certificates.admin import AdministrativeData
from hengqi.certificates.pdf import layout
from hengqi.certificates.pdf.blocks import Blocks, address_text, build_document, text_of
from hengqi.certificates.pdf.fonts import register_cjk_font
from hengqi.certificates.pdf.render import attach_file
from hengqi.locale import NP_, Message, bilingual, translate_message
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.conformity import SIMPLE_ACCEPTANCE
from hengqi.metrology.r76 import PointResult, TestResult, VerificationResult
from hengqi.metrology.r76.results import Check, Verdict
from hengqi.metrology.reporting import decimal_text, mass_units, natural_mass, places_of, table_places
from hengqi.metrology.rulesets import resolve_rule_set
from hengqi.records.verification_models import VerificationRecord

__all__ = ["RESULT_ATTACHMENT", "TITLES", "clauses", "render_verification_pdf"]

RESULT_ATTACHMENT = "verification-result.json"
#: The decision rule in words (the rule's name and source follow the English, as named by the metrology core).
_RULE = NP_(
    "certificate",
    "each value found is compared with its limit (the MPE, or the limit the clause sets) without a guard band",
)

#: Title by verdict: a certificate when the instrument passed, a notice of the result when it failed.
TITLES: dict[Verdict, dict[str, str]] = {
    Verdict.PASS: {"en": "Verification Certificate", "zh": "检定证书"},
    Verdict.FAIL: {"en": "Notice of Verification Result", "zh": "检定结果通知书"},
}

#: The tests' names (English msgid; the Chinese from the catalogue).
_TEST_MESSAGES: dict[str, Message] = {
    "weighing": NP_("verification test", "Weighing test"),
    "eccentricity": NP_("verification test", "Eccentricity test"),
    "repeatability": NP_("verification test", "Repeatability test"),
    "discrimination": NP_("verification test", "Discrimination test"),
    "zero-setting": NP_("verification test", "Zero-setting accuracy"),
    "tare": NP_("verification test", "Tare test"),
    "reference-weights": NP_("verification test", "Reference weights"),
}
#: A test's name in English and Chinese (an unknown test by its code, in English only).
TEST_NAMES: dict[str, tuple[str, str]] = {
    name: (message.text, translate_message("zh", message)) for name, message in _TEST_MESSAGES.items()
}

VERDICT_TEXT = {Verdict.PASS: "pass 合格", Verdict.FAIL: "fail 不合格"}

_QUANTITY = {
    Check.SPREAD: "max − min 极差",
    Check.CHANGE: "ΔI 示值变化",
    Check.ZERO_DEVIATION: "zero deviation 零点偏差",
    Check.TEST_LOAD: "test load 试验载荷",
    Check.WEIGHTS: "weights' MPE 砝码误差",
}

_LABEL_WORDS = {
    "increasing": "加载",
    "decreasing": "卸载",
    "centre": "中心",
    "front-left": "左前",
    "front-right": "右前",
    "back-left": "左后",
    "back-right": "右后",
    "series": "组",
    "trial": "次",
    "support": "支点",
}

_STAGE_MESSAGES: dict[str, Message] = {
    "initial": NP_("verification stage", "initial verification"),
    "subsequent": NP_("verification stage", "subsequent verification"),
    "in-service": NP_("verification stage", "in-service inspection"),
}
#: A verification stage in English and Chinese.
_STAGES = {stage: (message.text, translate_message("zh", message)) for stage, message in _STAGE_MESSAGES.items()}

#: A citation of a document and clause inside a rule text: ``OIML R 76-1:2006, A.4.4``, ``JJG 539-1997, ...``.
_CITATION = re.compile(
    r"(?P<doc>OIML R \d+-\d:\d{4}|JJG \d+-\d{4})"
    r"(?:, (?P<clause>(?:[A-Z]\.)?\d+(?:\.\d+)*(?:, Table \d+)?|Table \d+|MPE table))?"
)


def clauses(rules: Iterable[str]) -> tuple[str, ...]:
    """The documents and clauses cited by ``rules``, in order and without repeats, for the customer: the notes in
    parentheses that say how a clause was implemented or sourced (for the docs and the JSON record) are left out.

    >>> clauses(["OIML R 76-1:2006, zero (SECONDARY); OIML R 76-1:2006, A.4.4 (weighing test); "
    ...          "OIML R 76-1:2006, A.4.4.3 (SECONDARY: not read)",
    ...          "test weights: errors <= 1/3 (SECONDARY: ...); OIML R 111-1:2004, Table 1"])
    ('OIML R 76-1:2006, A.4.4', 'OIML R 76-1:2006, A.4.4.3', 'OIML R 111-1:2004, Table 1')
    """
    found: dict[str, None] = {}
    for rule in rules:
        outside = re.sub(r"\([^()]*\)", "", rule)  # notes in parentheses are not cited
        for match in _CITATION.finditer(outside):
            clause = match.group("clause")
            found[f"{match.group('doc')}, {clause}" if clause else match.group("doc")] = None
    cited = {c.split(", ")[0] for c in found if ", " in c}
    return tuple(c for c in found if ", " in c or c not in cited)  # a bare document only where no clause is


def _label(label: str) -> str:
    """A check's label with its Chinese words: ``increasing 加载``, ``series 1 第1组``."""
    if label in _LABEL_WORDS:
        return f"{label} {_LABEL_WORDS[label]}"
    match = re.fullmatch(r"(series|trial|support) (\d+)", label)
    if match:
        word, n = match.groups()
        return (
            f"{label} {'第' + n + '组' if word == 'series' else ('第' + n + '次' if word == 'trial' else '支点 ' + n)}"
        )
    return label


class _Builder(Blocks):
    def __init__(
        self,
        record: VerificationRecord,
        spec: InstrumentSpecification,
        result: VerificationResult,
        admin: AdministrativeData,
        font: str,
    ) -> None:
        super().__init__(font)
        self.record, self.spec, self.result, self.admin = record, spec, result, admin
        self.unit, self.eunit = mass_units(spec.max_kg, spec.d_kg)
        self.load_places = places_of(spec.d_kg, self.unit)
        self.rule_set = resolve_rule_set(record.rules)

    def nat(self, value_kg: Decimal, unit: str) -> str:
        return f"{natural_mass(value_kg, unit)} {unit}"

    def regulation(self) -> str:
        rs = self.rule_set
        sep = ":" if rs.document.startswith("OIML") else "-"
        return f"{rs.document}{sep}{rs.edition}"

    def title(self) -> None:
        info, lab = self.admin.certificate, self.admin.laboratory
        title = TITLES[self.result.verdict]
        self.story += [
            self.p(escape(lab.name["en"]), "subtitle"),
            self.p(escape(lab.name.get("zh", "")), "subtitle"),
            Spacer(1, 4 * mm),
            self.p(escape(title["zh"]), "title"),
            self.p(escape(title["en"]), "title"),
            Spacer(1, 2 * mm),
            self.p(f"Certificate No. 证书编号: <b>{escape(info.number)}</b>", "subtitle"),
            Spacer(1, 4 * mm),
        ]

    def administrative(self) -> None:
        a, info, inst, spec = self.admin, self.admin.certificate, self.record.instrument, self.spec
        lab = a.laboratory
        lab_text = f"{text_of(lab.name)}<br/>{address_text(lab.address)}"
        if lab.accreditation:
            lab_text += f"<br/>Authorisation 授权编号: {escape(lab.accreditation)}"
        self.h2("Verification body and applicant", "检定机构与申请单位")
        self.kv_table(
            [
                ("Verification body<br/>检定机构", lab_text),
                ("Applicant<br/>申请单位", f"{text_of(a.customer.name)}<br/>{address_text(a.customer.address)}"),
            ]
        )
        self.h2("Instrument verified", "被检器具")
        rows = [("Instrument<br/>器具名称", text_of(a.item.name))]
        make = " ".join(x for x in (inst.make or a.item.manufacturer, inst.model or a.item.model) if x)
        if make:
            rows.append(("Manufacturer, model<br/>制造厂、型号", escape(make)))
        serial = inst.serial or a.item.serial_number
        if serial:
            rows.append(("Serial number<br/>出厂编号", escape(serial)))
        rows.append(("Identifier<br/>器具编号", escape(inst.id)))
        if inst.type_approval:
            rows.append(("Type approval<br/>型式批准", escape(inst.type_approval)))
        chars = f"Max = {self.nat(spec.max_kg, self.unit)}, Min = {self.nat(spec.min_kg, self.unit)}"
        chars += f", e = {self.nat(spec.e_kg, self.eunit)}, d = {self.nat(spec.d_kg, self.eunit)}"
        if len(spec.ranges) > 1:
            parts = "; ".join(
                f"Max{i} = {self.nat(r.max_kg, self.unit)}, e{i} = {self.nat(r.e_kg, self.eunit)}"
                for i, r in enumerate(spec.ranges, start=1)
            )
            chars += f" ({escape(parts)})"
        chars += f", class 准确度等级 {escape(spec.accuracy_class.value)}"
        rows.append(("Characteristics<br/>计量特性", chars))
        if inst.location:
            rows.append(("Place of installation<br/>安装地点", escape(inst.location)))
        self.kv_table(rows)
        self.h2("Verification", "检定")
        stage_en, stage_zh = _STAGES[self.record.stage.value]
        rows = [
            ("Date of verification<br/>检定日期", self.record.date.isoformat()),
            ("Date of issue<br/>签发日期", info.issue_date.isoformat()),
            ("Kind<br/>检定类别", f"{stage_en} {stage_zh}"),
            (
                "Regulation<br/>检定依据",
                escape(f"{self.regulation()}: {self.rule_set.title}"),
            ),
            (
                "Decision rule<br/>判定规则",
                escape(
                    f"{_RULE.text}: {SIMPLE_ACCEPTANCE.name} ({SIMPLE_ACCEPTANCE.source}). "
                    + translate_message("zh", _RULE)
                ),
            ),
        ]
        weights = self._weights()
        if weights:
            rows.append(("Reference weights<br/>标准砝码", weights))
        env = self.record.environment
        if env is not None:
            cond = []
            if env.temperature_start is not None:
                end = f" → {env.temperature_end} °C" if env.temperature_end is not None else ""
                cond.append(f"temperature 温度 {env.temperature_start} °C{end}")
            if env.relative_humidity is not None:
                cond.append(f"relative humidity 相对湿度 {env.relative_humidity} %")
            if env.pressure is not None:
                cond.append(f"air pressure 气压 {env.pressure} hPa")
            if cond:
                rows.append(("Conditions<br/>环境条件", escape("; ".join(cond))))
        rows.append(("Verified by<br/>检定员", escape(self.record.operator)))
        self.kv_table(rows)

    def _weights(self) -> str:
        """``20 × 1000 kg, 1 × 500 kg; class 等级 M1``: the reference weights counted by nominal value per class."""
        groups: dict[str, dict[Decimal, int]] = {}
        for w in self.record.reference_weights:
            counts = groups.setdefault(w.weight_class.value if w.weight_class else "", {})
            counts[w.nominal] = counts.get(w.nominal, 0) + 1
        parts = []
        for weight_class, counts in groups.items():
            items = []
            for nominal, n in sorted(counts.items(), reverse=True):
                unit = "kg" if nominal >= 1 else ("g" if nominal >= Decimal("0.001") else "mg")
                items.append(f"{n} × {natural_mass(nominal, unit)} {unit}")
            text = ", ".join(items) + (f"; class 等级 {weight_class}" if weight_class else "")
            parts.append(escape(text))
        return "<br/>".join(parts)

    def summary(self) -> None:
        self.h2("Summary of results", "检定结果汇总")
        header = ["Test 测试项目", "Checks 检查数", "Verdict 结论", "Clauses 依据条款"]
        rows = [
            [
                " ".join(TEST_NAMES.get(t.name, (t.name, ""))).strip(),
                str(len(t.points)),
                VERDICT_TEXT[t.verdict],
                "; ".join(clauses(p.rule for p in t.points)),
            ]
            for t in self.result.tests
        ]
        width = layout.PAGE_W - 2 * layout.MARGIN
        self.story.append(self.grid(header, rows, [45 * mm, 20 * mm, 25 * mm, width - 90 * mm], text_first=True))

    def value_text(self, point: PointResult, value: Decimal | None, places: int) -> str:
        if value is None:
            return "—"
        if point.check is Check.TEST_LOAD:
            return f"{decimal_text(value, self.unit, places=self.load_places)} {self.unit}"
        if point.check is Check.WEIGHTS:  # each sum and limit to two significant digits of its own
            places = table_places([value], self.eunit, self.spec.d_kg)
        return f"{decimal_text(value, self.eunit, places=places)} {self.eunit}"

    def quantity(self, point: PointResult) -> str:
        if point.check is Check.ERROR:
            return "Ec" if point.corrected_error_kg is not None else "E"
        return _QUANTITY.get(point.check, point.check.value)

    def test(self, test: TestResult) -> None:
        start = len(self.story)
        en, zh = TEST_NAMES.get(test.name, (test.name, ""))
        self.h2(f"{en} — {VERDICT_TEXT[test.verdict]}", zh)
        values = [
            v for p in test.points if p.check is not Check.WEIGHTS for v in (p.value_kg, p.limit_kg) if v is not None
        ]
        places = table_places(values, self.eunit, self.spec.d_kg)
        header = [
            "Check 检查",
            f"Load 载荷 / {self.unit}",
            f"Indication 示值 / {self.unit}",
            "Quantity 量",
            "Value 测得值",
            "Limit 限值",
            "Verdict 结论",
        ]
        rows = []
        for point in test.points:
            indication = point.indication_kg
            value = point.value_kg if point.value_kg is not None else point.assessed_error_kg
            limit = point.limit_kg if point.limit_kg is not None else point.mpe_kg
            rows.append(
                [
                    _label(point.label),
                    "" if point.load_kg == 0 and point.check is Check.WEIGHTS else self._load(point.load_kg),
                    "—" if indication is None else self._load(indication, finer=True),
                    self.quantity(point),
                    self.value_text(point, value, places),
                    self.value_text(point, limit, places),
                    VERDICT_TEXT[point.verdict],
                ]
            )
        width = layout.PAGE_W - 2 * layout.MARGIN
        widths = [width - 128 * mm, 22 * mm, 22 * mm, 24 * mm, 20 * mm, 20 * mm, 20 * mm]
        self.story.append(self.grid(header, rows, widths, text_first=True))
        if test.name == "weighing":
            self.story.append(
                self.p(
                    escape(
                        bilingual(
                            NP_(
                                "certificate",
                                "E = I − L (after eliminating the rounding error where change-point weights were "
                                "used); Ec = E − E0, corrected for the error at zero E0; the limit is the MPE of the "
                                "load.",
                            )
                        )
                    ),
                    "small",
                )
            )
        if len(rows) <= 20:
            block = self.story[start:]
            del self.story[start:]
            self.story.append(KeepTogether(block))

    def _load(self, value_kg: Decimal, *, finer: bool = False) -> str:
        """A load (to ``d``) or an indication (to ``d``, or one digit more where it carries one)."""
        places = self.load_places
        if finer:
            places = min(max(places, places_of(value_kg, self.unit)), places + 1)
        return decimal_text(value_kg, self.unit, places=places)

    def statement(self) -> None:
        self.h2("Result", "检定结论")
        stage = _STAGE_MESSAGES[self.record.stage.value]
        if self.result.verdict is Verdict.PASS:
            text = bilingual(
                NP_("certificate", "The instrument meets the requirements of {regulation} for {stage}.").format(
                    regulation=self.regulation(), stage=stage
                )
            )
        else:
            failed = [t for t in self.result.tests if t.verdict is Verdict.FAIL]
            names_en = ", ".join(TEST_NAMES.get(t.name, (t.name, ""))[0] for t in failed)
            names_zh = "、".join(TEST_NAMES.get(t.name, ("", t.name))[1] for t in failed)
            fails = NP_(
                "certificate",
                "The instrument does not meet the requirements of {regulation} for {stage}: failed {tests}.",
            )
            text = (
                translate_message("en", fails.format(regulation=self.regulation(), stage=stage, tests=names_en))
                + " "
                + translate_message("zh", fails.format(regulation=self.regulation(), stage=stage, tests=names_zh))
            )
        self.story.append(self.p(f"<b>{escape(VERDICT_TEXT[self.result.verdict])}</b> — {escape(text)}", "statement"))
        for st in self.admin.statements:
            self.story.append(self.p(text_of(st.text), "statement"))
        self.story.append(
            self.p(
                escape(
                    bilingual(
                        NP_(
                            "certificate",
                            "The results relate only to the instrument verified, at the time of verification. This "
                            "certificate shall not be reproduced except in full without the written approval of the "
                            "verification body.",
                        )
                    )
                ),
                "small",
            )
        )

    def signatories(self, signed: bool, verify_url: str | None = None) -> None:
        self.authorisation(("Authorisation", "批准"), self.admin.persons, signed=signed, verify_url=verify_url)


def render_verification_pdf(
    record: VerificationRecord,
    spec: InstrumentSpecification,
    result: VerificationResult,
    admin: AdministrativeData,
    *,
    result_json: bytes | None = None,
    will_be_signed: bool = False,
    draft: bool = False,
    verify_url: str | None = None,
) -> bytes:
    """The verification certificate (or, for a failed verification, the notice of its result) as PDF bytes;
    ``result_json`` (``hengqi verify --json``) is attached as ``verification-result.json`` when given; a
    ``draft`` says "DRAFT" across every page; ``verify_url`` prints the public verification link and its QR
    code.  The title comes from the verdict, the number from ``admin``."""
    font = register_cjk_font()
    title = TITLES[result.verdict]
    admin = admin.model_copy(update={"certificate": admin.certificate.model_copy(update={"title": title})})
    b = _Builder(record, spec, result, admin, font)
    b.title()
    b.administrative()
    b.summary()
    for test in result.tests:
        b.test(test)
    b.statement()
    b.signatories(will_be_signed, verify_url)
    pdf = build_document(b.story, font, admin, subject=f"Verification of {record.instrument.id}", draft=draft)
    return (
        attach_file(
            pdf,
            RESULT_ATTACHMENT,
            result_json,
            "application/json",
            description="Verification result (hengqi verify --json)",
        )
        if result_json is not None
        else pdf
    )
