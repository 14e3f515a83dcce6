"""In a real browser, one server for the module: an administrator imports 1 000 instruments from an XLSX workbook
with 3 bad rows and sees them named; a quality manager withdraws one certificate and reissues another; a
technician prints a label sheet; someone not signed in opens a certificate's QR link and checks its file; in
English and Chinese.  Screenshots of these screens go to ``test-artifacts/web/`` (and, with
``HENGQI_UPDATE_SCREENSHOTS=1``, to ``docs/screenshots/``).  Same server and Chromium as ``test_browser.py``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import Browser, expect, sync_playwright

from hengqi.certificates.pdf.qr import svg_path
from hengqi.server.app import create_app
from hengqi.server.db.models import Instrument, User
from hengqi.server.permissions import Principal, Role
from hengqi.server.schemas.workflow import CertificateCreate
from hengqi.server.services import certificates
from hengqi.server.settings import Settings

from .conftest import Served, start_server
from .test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, CSP_VIOLATIONS, DOC_SHOTS, TABLET, _shot, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HEADER = ["make", "model", "serial", "accuracy_class", "max", "e", "status", "verification_due"]


@pytest.fixture(autouse=True)
def _no_csp_violations() -> Iterator[None]:
    CSP_VIOLATIONS.clear()
    yield
    assert CSP_VIOLATIONS == []


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_server(tmp_path_factory.mktemp("browser-lab-qr") / "data")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _doc_copy(path: Path, name: str) -> None:
    if os.environ.get("HENGQI_UPDATE_SCREENSHOTS") == "1":
        DOC_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_SHOTS / name)


def _issue(served: Served, number: str, pdf: bytes) -> tuple[int, int, int]:
    """A certificate drafted by the demo technician and issued by the demo reviewer, through the services on the
    server's own store (the guided calibration that would make one is driven in ``test_browser.py``); returns
    (certificate id, organisation id, instrument id)."""
    data_dir = Path(served.log).parent / "data"
    app = create_app(Settings(env="test", data_dir=data_dir))
    state = app.state.hengqi
    try:
        with state.database.write_session() as session:
            users = {u.username: u for u in session.query(User).filter(User.username.like("demo-%"))}

            def who(role: str) -> Principal:
                user = users[f"demo-{role}"]
                return Principal(user.id, user.username, Role(role), user.organisation_id)

            tech, reviewer = who("technician"), who("reviewer")
            instrument = (
                session.query(Instrument).filter(Instrument.serial.like("SIM-%")).order_by(Instrument.id).first()
            )
            assert instrument is not None
            made = certificates.create_certificate(
                session, tech, CertificateCreate(number=number, kind="calibration", instrument_id=instrument.id)
            )
            certificates.attach_file(
                session, tech, state.files, made.id, content=pdf, name=f"{number}.pdf", media_type="application/pdf"
            )
            certificates.approve(session, reviewer, made.id)
            certificates.issue(session, reviewer, made.id)
            session.commit()
            return made.id, made.organisation_id, instrument.id
    finally:
        state.database.dispose()


def test_admin_imports_1000_instruments_from_xlsx(browser: Browser, served: Served, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for n in range(1000):
        sheet.append(["Acme", "X-30", f"XL-{n:04d}", "III", 30, 0.01, "in-service", "2027-06-30"])
    sheet["F12"] = 0.000001  # sheet row 12: n = 30 000 000 > 10 000 (R 76-1 Table 3)
    sheet["D502"] = "V"  # sheet row 502: no such class
    sheet["C902"] = "XL-0001"  # sheet row 902: the instrument of row 3 again
    path = tmp_path / "instruments.xlsx"
    book.save(path)
    admin = _sign_in(browser, served, "admin")
    admin.goto(f"{served.base}/web/import")
    expect(admin.get_by_test_id("template-xlsx")).to_be_visible()
    admin.set_input_files("input[name=file]", str(path))
    admin.click("button:has-text('Dry run')")
    counts = admin.get_by_test_id("plan-counts")
    expect(counts).to_contain_text("create: 997")
    expect(counts).to_contain_text("refused: 3")
    table = admin.get_by_test_id("plan-table")
    expect(table.locator("tr", has=admin.locator("td", has_text=re.compile(r"^12$")))).to_contain_text("R 76")
    expect(table.locator("tr", has=admin.locator("td", has_text=re.compile(r"^502$")))).to_contain_text(
        "accuracy_class"
    )
    expect(table.locator("tr", has=admin.locator("td", has_text=re.compile(r"^902$")))).to_contain_text("line 3")
    expect(admin.get_by_test_id("commit-form")).to_have_count(0)
    _shot(admin, "import-xlsx-dry-run")  # full page: 1 000 rows
    admin.screenshot(
        path=str(ARTIFACTS / "import-xlsx-dry-run-top.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1180, "height": 1500},
    )
    _doc_copy(ARTIFACTS / "import-xlsx-dry-run-top.png", "import-xlsx-dry-run.png")
    admin.click("[data-testid=lang-switch]")
    expect(admin.get_by_test_id("plan-counts")).to_have_count(0)  # the switch reloads the page (GET): no plan
    admin.set_input_files("input[name=file]", str(path))
    admin.click("button:has-text('试运行')")
    expect(admin.get_by_test_id("plan-counts")).to_contain_text("拒绝: 3")
    admin.click("[data-testid=lang-switch]")


def test_quality_manager_withdraws_and_reissues(browser: Browser, served: Served) -> None:
    withdrawn, _, _ = _issue(served, "BR-CERT-W", b"%PDF-1.7 withdrawn")
    old, _, _ = _issue(served, "BR-CERT-OLD", b"%PDF-1.7 old")
    qm = _sign_in(browser, served, "quality-manager")
    qm.goto(f"{served.base}/web/certificates/{withdrawn}/manage")
    qm.get_by_test_id("withdraw-form").locator("textarea[name=reason]").fill("wrong customer address")
    qm.get_by_test_id("withdraw-form").locator("button").click()
    expect(qm.get_by_test_id("certificate-status")).to_contain_text("withdrawn")
    qm.goto(f"{served.base}/web/certificates/{old}/manage")
    form = qm.get_by_test_id("reissue-form")
    form.locator("input[name=number]").fill("BR-CERT-NEW")
    form.locator("textarea[name=reason]").fill("typo in the serial number")
    form.locator("button").click()
    expect(qm.get_by_test_id("certificate-status")).to_contain_text("draft")
    expect(qm.locator("main")).to_contain_text("BR-CERT-OLD")
    _shot(qm, "certificate-reissued", doc=True)
    qm.click("[data-testid=lang-switch]")
    expect(qm.get_by_test_id("certificate-status")).to_contain_text("草稿")
    qm.click("[data-testid=lang-switch]")


def test_technician_prints_labels_and_the_public_checks_by_qr(browser: Browser, served: Served) -> None:
    pdf = b"%PDF-1.7 the issued certificate"
    _key, org, instrument = _issue(served, "BR-CERT-QR", pdf)
    tech = _sign_in(browser, served, "technician")
    tech.goto(f"{served.base}/web/registry/instruments?q=SIM-")
    _shot(tech, "registry-instruments-labels", doc=True)
    href = tech.get_by_test_id("labels-L7160").get_attribute("href")
    assert href is not None
    sheet = tech.request.get(served.base + href)
    assert sheet.headers["content-type"] == "application/pdf"
    pdf_path = ARTIFACTS / "label-sheet.pdf"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf_path.write_bytes(sheet.body())
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, check=True, text=True).stdout
    assert "BR-CERT-QR" in text
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", "-singlefile", str(pdf_path), str(ARTIFACTS / "label-sheet")], check=True
    )
    _doc_copy(ARTIFACTS / "label-sheet.png", "label-sheet.png")
    link = f"{served.base}/web/verify/{org}/BR-CERT-QR"
    label = tech.request.get(f"{served.base}/web/registry/instruments/{instrument}/label.svg")
    assert svg_path(link, 40.5, 7.5, 20.0) in label.text()  # the label's QR code is that link

    public = browser.new_context(viewport=TABLET, locale="en-GB").new_page()
    public.goto(link)
    expect(public.get_by_test_id("verify-state")).to_contain_text("current")
    expect(public.locator("[data-testid=user]")).to_have_count(0)  # nobody is signed in
    upload = ARTIFACTS / "BR-CERT-QR.pdf"
    upload.write_bytes(pdf)
    public.set_input_files("input[name=file]", str(upload))
    public.click("[data-testid=verify-file-form] button")
    expect(public.get_by_test_id("verify-file")).to_contain_text("is the one issued")
    _shot(public, "verify-page", doc=True)
    public.click("[data-testid=lang-switch]")
    expect(public.get_by_test_id("verify-state")).to_contain_text("有效")
    _shot(public, "verify-page-zh", doc=True)
    public.goto(f"{served.base}/web/verify?number=BR-CERT-W")
    expect(public.get_by_test_id("verify-state")).to_contain_text("已撤回")
    public.context.close()


def test_reminders_screen(browser: Browser, served: Served) -> None:
    tech = _sign_in(browser, served, "technician")
    tech.goto(f"{served.base}/web/reminders")
    expect(tech.get_by_test_id("no-smtp")).to_be_visible()
    tech.fill("input[name=email]", "technician@lab.example")
    tech.click("[data-testid=subscribe-form] button")
    expect(tech.get_by_test_id("saved")).to_be_visible()
    _shot(tech, "reminders", doc=True)
