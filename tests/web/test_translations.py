"""Chinese everywhere: every page of the web interface, as every role, drawn in zh-CN without an untranslated text.

Two probes watch a page being drawn: :func:`hengqi.locale.record_misses` records every text looked up in the
catalogue without a Chinese translation (templates' ``_()``, Python's ``gettext``, keys through ``t()``), and the
page's visible text and ``title``/``placeholder``/``aria-label`` attributes are compared with the catalogue's
English texts: an English text shown verbatim in a Chinese page was written without going through the catalogue.
The catalogue itself is checked against the sources in ``test_catalogue.py``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.conftest import Demo, WebUser
from tests.web.test_certificate_actions import issued_certificate

from hengqi.locale import catalogue, record_misses
from hengqi.server.db.models import Certificate, Instrument, User, Weight, WeightSet
from hengqi.server.web.registry_forms import KINDS

ROLES = ("technician", "reviewer", "quality-manager", "regulator", "admin")
CJK = re.compile(r"[\u4e00-\u9fff]")
#: English texts that are the same in Chinese pages (names, units, file formats)
SAME_IN_CHINESE = {"hengqi", "PDF", "English", "JSON", "CSV", "DCC", "SVG", "QR"}


def get_routes() -> list[str]:
    """The path of every GET route of the web interface's routers (a new page is found by itself)."""
    from hengqi.server.field.pages import router as field_router
    from hengqi.server.web import web_router

    def walk(routes: Any, prefix: str) -> Iterator[str]:
        for route in routes:
            if hasattr(route, "original_router"):
                yield from walk(route.original_router.routes, prefix)
            elif "GET" in (getattr(route, "methods", None) or set()):
                path = str(route.path)
                yield path if path.startswith(prefix) else prefix + path

    return sorted(set(walk(web_router().routes, "/web")) | set(walk(field_router.routes, "/web")))


class _Text(HTMLParser):
    """Visible text nodes and the attributes a reader sees (script and style left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0
        self._raw: list[str] = []  # open elements marked translate="no" (recorded data shown as stored)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if ("translate", "no") in attrs:
            self._raw.append(tag)
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label") and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if self._raw and self._raw[-1] == tag:
            self._raw.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip and not self._raw and data.strip():
            self.texts.append(data)


def english_leaks(page: str) -> set[str]:
    """Texts of the page that are, verbatim, an English text of the catalogue (so shown untranslated)."""
    english = {msgid for (_, msgid), text in catalogue("zh").items() if text != msgid} - SAME_IN_CHINESE
    parser = _Text()
    parser.feed(page)
    found = set()
    for text in parser.texts:
        for piece in re.split(r"\s*[·|:：]\s*|\n", html.unescape(text)):
            if piece.strip() in english:
                found.add(piece.strip())
    return found


def fill(path: str, ids: dict[str, str]) -> list[str]:
    """Concrete URLs for a route; one per registry kind for ``{slug}``."""
    if "{slug}" in path:
        return [u for slug in KINDS for u in fill(path.replace("{slug}", slug), {**ids, "key": ids[f"key:{slug}"]})]
    out = path
    for name in re.findall(r"\{(\w+)\}", path):
        if name == "key":
            kind = "user" if path.startswith("/web/users") else "certificate" if "/certificates/" in path else "label"
            out = out.replace("{key}", ids[f"key:{kind}"])
        else:
            out = out.replace("{" + name + "}", ids[name])
    return [out]


def demo_ids(demo: Demo, run_url: str) -> dict[str, str]:
    with demo.app.state.hengqi.database.read_session() as session:
        instrument = session.scalars(select(Instrument.id).order_by(Instrument.id)).first()
        certificate = session.scalars(select(Certificate.id).order_by(Certificate.id)).first()
        issued_only = select(Certificate).where(Certificate.status == "issued").order_by(Certificate.id)
        issued = session.scalars(issued_only).first()
        user = session.scalars(select(User.id).order_by(User.id)).first()
        weight_set = session.scalars(select(WeightSet.id).order_by(WeightSet.id)).first()
        weight = session.scalars(select(Weight.id).order_by(Weight.id)).first()
    first: dict[str, str] = {"instruments": str(instrument), "weight-sets": str(weight_set), "weights": str(weight)}
    return {
        "instrument_id": str(instrument),
        "certificate_id": str(certificate or 1),
        "run_id": run_url.rsplit("/", 1)[-1],
        "device_id": "no-such-device",
        "organisation": str(issued.organisation_id if issued else 1),
        "number": issued.number if issued else "HQ-CAL-2026-00001",
        "code": "zh",
        "key:user": str(user),
        "key:certificate": str(certificate or 1),
        "key:label": str(instrument),
        **{f"key:{slug}": first.get(slug, "1") for slug in KINDS},
    }


@pytest.mark.slow  # every page as five roles on the demo (about 300 requests): some 10-20 s on a loaded machine
def test_every_page_as_every_role_is_all_chinese(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start("SIM-BAL-0001", mode="manual")
    technician.advance(run_url, steps=3)
    issued_certificate(demo)  # certificate lists, its page, the dashboard's recent ones, audit actions
    ids = demo_ids(demo, run_url)
    urls = [u for path in get_routes() for u in fill(path, ids)]
    assert len(urls) > 30
    drawn = 0
    problems: dict[str, Any] = {}
    for role in ROLES:
        user = demo.user(role) if role != "technician" else technician
        user.client.cookies.set("hengqi_lang", "zh")
        for url in urls:
            with record_misses() as misses:
                answer = user.client.get(url, follow_redirects=False)
            if misses:
                problems[f"{role} {url}: no translation"] = sorted(misses)
            if answer.headers.get("content-type", "").startswith("text/html"):
                drawn += answer.status_code == 200
                assert CJK.search(answer.text), url
                leaks = english_leaks(answer.text)
                if leaks:
                    problems[f"{role} {url}: English shown"] = sorted(leaks)
    anonymous = WebUser(TestClient(demo.app))
    anonymous.client.cookies.set("hengqi_lang", "zh")
    with record_misses() as misses:
        login = anonymous.client.get("/web/login")
    assert not misses
    assert not english_leaks(login.text)
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert drawn > 5 * 20  # most pages are drawn for most roles (the rest answer 403/404 pages, checked too)


def test_the_probe_sees_a_text_without_translation() -> None:
    """The probes can fail: an English text outside the catalogue is recorded, and found in a page."""
    from hengqi.locale import gettext

    with record_misses() as misses:
        assert gettext("zh", "A text nobody translated") == "A text nobody translated"
        assert gettext("zh", "Sign in") == "登录"
    assert misses == {(None, "A text nobody translated")}
    assert english_leaks("<p>Sign in</p><p title='Sign out'>登录</p>") == {"Sign in", "Sign out"}
    assert english_leaks("<p>登录</p><script>var x = 'Sign in'</script><td translate=no>Sign in</td>") == set()


@pytest.mark.slow  # a whole guided calibration on the simulated balance (about 50 steps): 10-60 s when loaded
def test_a_finished_calibration_and_its_review_are_all_chinese(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start("SIM-BAL-0001")
    technician.advance(run_url)
    with demo.app.state.hengqi.database.read_session() as session:
        draft = session.scalars(select(Certificate.id).where(Certificate.status == "draft")).one()
    urls = [
        f"{run_url}/results",
        run_url,
        f"/web/certificates/{draft}/approve",
        f"/web/certificates/{draft}/manage",
        "/web/certificates",
        "/web/",
        "/web/audit",
    ]
    problems: dict[str, Any] = {}
    for role in ("technician", "reviewer", "quality-manager"):
        user = technician if role == "technician" else demo.user(role)
        user.client.cookies.set("hengqi_lang", "zh")
        for url in urls:
            with record_misses() as misses:
                answer = user.client.get(url, follow_redirects=False)
            if misses:
                problems[f"{role} {url}: no translation"] = sorted(misses)
            if answer.headers.get("content-type", "").startswith("text/html"):
                leaks = english_leaks(answer.text)
                if leaks:
                    problems[f"{role} {url}: English shown"] = sorted(leaks)
    results = technician.client.get(f"{run_url}/results").text
    assert 'data-testid="error-curve"' in results
    assert "示值误差" in results
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())


INSTRUCTION = re.compile(r'data-testid="instruction">(.*?)</p>', re.S)
HELD = re.compile(r'data-testid="held".*?<ul>(.*?)</ul>', re.S)
#: an English word in a Chinese text (lower case, three letters or more: units such as kg, hPa, µg pass)
ENGLISH_WORD = re.compile(r"\b[a-z]{3,}\b")


def _chinese_steps(user: WebUser, run_url: str, steps: int) -> list[str]:
    """The instruction of each of the first ``steps`` steps of a run as a Chinese page draws it."""
    seen = []
    for _ in range(steps):
        with record_misses() as misses:
            pending = user.pending(run_url)
        if pending is None:
            break
        step_id, action, page = pending
        assert misses == set(), misses
        found = INSTRUCTION.search(page)
        assert found is not None
        seen.append(html.unescape(found.group(1)).strip())
        data = {"value": "continue"} if action == "decide" else {}
        assert user.post(f"{run_url}/step", step_id=step_id, action=action, **data).status_code == 303
    return seen


def test_guided_steps_and_plausibility_findings_are_all_chinese(demo: Demo) -> None:
    """The instructions of a guided calibration and verification, and a finding on a typed reading, come from
    the catalogue: every text is Chinese, no lookup misses; a held reading stored in the earlier bilingual shape
    still shows in both languages."""
    from hengqi.server.services import guided_runs

    technician = demo.user("technician")
    technician.client.cookies.set("hengqi_lang", "zh")
    calibration = technician.start("SIM-BAL-0001")
    instrument = technician.instrument_id("SIM-RET-0001")
    page = technician.client.get(f"/web/instruments/{instrument}")
    weight_set = re.search(r'<option value="(\d+)">M1 set', page.text)
    assert weight_set is not None
    started = technician.post(
        f"/web/instruments/{instrument}/runs",
        weight_set_id=weight_set.group(1),
        mode="instrument",
        kind="verification",
        stage="initial",
        rules="oiml-r76",
    )
    verification = str(started.headers["location"])
    texts = _chinese_steps(technician, calibration, 14) + _chinese_steps(technician, verification, 30)
    assert len(set(texts)) > 12
    assert any(text.startswith("校准") for text in texts)
    assert any(text.startswith("检定") for text in texts)
    assert any("承载器" in text for text in texts)
    assert any("读取稳定示值" in text for text in texts)
    # the instrument's name and the rule set's code are data, shown as registered
    words = [re.sub(r"^(校准|检定) [^（]*|oiml-r76", "", text) for text in texts]
    english = [text for text in words if ENGLISH_WORD.search(text) or not CJK.search(text)]
    assert english == []

    ended = demo.user("quality-manager").post(f"{calibration}/abandon", reason="instructions checked; test run")
    assert ended.headers["location"].endswith("?notice=abandoned")
    manual = technician.start("SIM-BAL-0001", mode="manual")
    technician.client.cookies.set("hengqi_lang", "en")
    technician.advance(manual, 5)  # prompt, conditions, remove, zero, place 110 g: a reading to type in
    pending = technician.pending(manual)
    assert pending is not None
    held = technician.post(f"{manual}/step", step_id=pending[0], action="enter", value="-5")
    assert held.headers["location"].endswith("?notice=confirm")
    technician.client.cookies.set("hengqi_lang", "zh")
    with record_misses() as misses:
        shown = HELD.search(technician.client.get(manual).text)
    assert misses == set()
    assert shown is not None
    assert "承载器上有 110 g，示值 -5 g 却为负" in shown.group(1)
    assert not ENGLISH_WORD.search(html.unescape(shown.group(1)))

    # a reading held by an earlier version: its texts stored as an English/Chinese pair, shown as stored
    old = {
        "step_id": pending[0],
        "value_kg": "-0.005",
        "source": "operator",
        "codes": ["sign"],
        "messages": ["-5 g is negative with 110 g on the receptor"],
        "messages_zh": ["承载器上有 110 g，示值 -5 g 却为负（旧）"],
    }
    database = demo.app.state.hengqi.database
    guided_runs.set_fields(database, manual.rsplit("/", 1)[-1], held_reading=json.dumps(old, ensure_ascii=False))
    chinese = HELD.search(technician.client.get(manual).text)
    assert chinese is not None
    assert "示值 -5 g 却为负（旧）" in chinese.group(1)
    technician.client.cookies.set("hengqi_lang", "en")
    english_page = HELD.search(technician.client.get(manual).text)
    assert english_page is not None
    assert "-5 g is negative with 110 g on the receptor" in english_page.group(1)


def test_the_legal_core_refusing_a_specification_is_read_in_chinese(demo: Demo) -> None:
    """Max/e beyond the class's n (OIML R 76-1 Table 3) refused on the registry form: the reason from the
    catalogue, the rule it names kept; in English the core's own words."""
    from tests.web.test_manage import INSTRUMENT

    technician = demo.user("technician")
    impossible = {**INSTRUMENT, "serial": "ZH-SPEC-1", "max": "300", "e": "0.001"}  # n = 300 000 > 10 000
    technician.client.cookies.set("hengqi_lang", "zh")
    with record_misses() as misses:
        page = technician.post("/web/registry/instruments", **impossible)
    assert page.status_code == 422
    assert misses == set()
    refused = re.search(r'data-testid="form-error">(.*?)</p>', page.text, re.S)
    assert refused is not None
    text = html.unescape(refused.group(1))
    assert "n = Max/e = 300000 超过 III 级（e = 1 g）的上限 10000" in text
    assert "OIML R 76-1" in text
    technician.client.cookies.set("hengqi_lang", "en")
    english = html.unescape(technician.post("/web/registry/instruments", **impossible).text)
    assert "n = Max/e = 300000 exceeds 10000 for class III with e = 1 g" in english


@pytest.mark.slow  # a whole guided calibration on the simulated balance (about 50 steps): 10-60 s when loaded
def test_a_reading_recorded_beyond_the_mpe_is_named_in_chinese_on_review(demo: Demo) -> None:
    """A reading recorded with the plausibility code ``beyond_mpe``: the review and approve pages name the code
    from the catalogue (no miss, no raw code shown), in English as well."""
    from decimal import Decimal

    from hengqi.procedures.steps import ReadStable
    from hengqi.server.services import guided_runs

    technician = demo.user("technician")
    run_url = technician.start("SIM-BAL-0001")
    run_id = run_url.rsplit("/", 1)[-1]
    database = demo.app.state.hengqi.database
    runs = guided_runs.runs_api(database)
    while True:  # to the first reading, answered as a technician accepting a reading beyond the MPE would
        pending = runs.open(run_id).pending
        assert pending is not None
        if isinstance(pending.step, ReadStable) and pending.step.load_kg > 0:
            load = pending.step.load_kg
            runs.submit(run_id, pending.step_id, load + Decimal("0.000004"), flags=("beyond_mpe",), by="technician")
            break
        technician.advance(run_url, 1)
    technician.advance(run_url)
    with database.read_session() as db:
        draft = db.scalars(select(Certificate.id).where(Certificate.status == "draft")).one()
    reviewer = demo.user("reviewer")
    for url in (f"/web/certificates/{draft}/approve", f"{run_url}/results"):
        reviewer.client.cookies.set("hengqi_lang", "zh")
        with record_misses() as misses:
            page = reviewer.client.get(url)
        assert page.status_code == 200, url
        assert misses == set(), (url, misses)
        flagged = re.search(r'data-code="flagged_reading">(.*?)</li>', page.text, re.S)
        assert flagged is not None, url
        text = html.unescape(flagged.group(1))
        assert "误差超出最大允许误差" in text
        assert "beyond_mpe" not in text
        assert not ENGLISH_WORD.search(text), text
        reviewer.client.cookies.set("hengqi_lang", "en")
        english = re.search(r'data-code="flagged_reading">(.*?)</li>', reviewer.client.get(url).text, re.S)
        assert english is not None
        assert "recorded with error beyond the MPE" in html.unescape(english.group(1))


def test_registry_form_refusals_are_read_in_chinese(demo: Demo) -> None:
    """The common refusals of a registry form (required, not one of the choices, not a date, not a record
    number, put into service in the future) come from the catalogue: no miss, the reason in Chinese, the field
    and the submitted value kept; in English as before."""
    from tests.web.test_manage import INSTRUMENT

    technician = demo.user("technician")
    cases = {
        "serial": ("", "serial: 必填", "serial: required"),
        "accuracy_class": ("V", "accuracy_class: 不是可选值之一：I, II, III, IIII", "not one of the choices: I, II"),
        "verification_due": ("2026-13-01", "verification_due: 不是日期（YYYY-MM-DD）", "not a date (YYYY-MM-DD)"),
        "site_id": ("x1", "site_id: 不是记录编号", "site_id: not a record number"),
        "installed_on": ("2999-01-01", "installed_on: 衡器投入使用的日期不能晚于今天：2999-01-01", "in the future"),
    }
    for field, (value, chinese, english) in cases.items():
        refused = {**INSTRUMENT, "serial": "ZH-FORM-1", field: value}
        technician.client.cookies.set("hengqi_lang", "zh")
        with record_misses() as misses:
            page = technician.post("/web/registry/instruments", **refused)
        assert page.status_code == 422, field
        assert misses == set(), (field, misses)
        shown = re.search(r'data-testid="form-error">(.*?)</p>', page.text, re.S)
        assert shown is not None, field
        assert chinese in html.unescape(shown.group(1))
        technician.client.cookies.set("hengqi_lang", "en")
        assert english in html.unescape(technician.post("/web/registry/instruments", **refused).text)
