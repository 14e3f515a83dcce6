"""Import of instruments from XLSX workbooks and exports as XLSX: the workbook template, a dry run naming the bad
rows by their sheet row, the commit, an export that keeps the filter and sort; malformed, oversized and
zip-bomb workbooks refused with a 4xx naming the problem; the audit trail intact after a bulk commit."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from openpyxl import Workbook, load_workbook
from tests.web.conftest import Demo, WebUser
from tests.web.test_imports import commit_content, counts

from hengqi.server.admin import verify_audit

HEADER = ["make", "model", "serial", "accuracy_class", "max", "e", "status", "verification_due"]


def workbook(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(user: WebUser, content: bytes, name: str = "instruments.xlsx") -> object:
    return user.client.post(
        "/web/import",
        data={"csrf_token": user.csrf},
        files={"file": (name, content, "application/octet-stream")},
        follow_redirects=False,
    )


def test_xlsx_template_dry_run_commit_and_export(demo: Demo) -> None:
    tech = demo.user("technician")
    template = tech.client.get("/web/import/template.xlsx")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert counts(upload(tech, template.content).text) == {  # type: ignore[attr-defined]
        "create": 1,
        "change": 0,
        "unchanged": 0,
        "refused": 0,
    }
    rows: list[list[object]] = [
        ["Acme", "X-30", f"XL-{n:03d}", "III", 30, 0.01, "in-service", datetime(2027, 1, 31)] for n in range(30)
    ]
    rows[4] = ["Acme", "X-30", "XL-BAD1", "III", 30, 0.000001, "in-service", None]  # n > 10 000 (R 76-1 Table 3)
    rows[9] = ["Acme", "X-30", "XL-BAD2", "IIII", 30, 0.01, "in-service", None]  # no such class
    rows[20] = ["Acme", "X-30", "XL-BAD3", "III", "thirty", 0.01, "in-service", None]  # not a mass
    page = upload(tech, workbook(rows)).text  # type: ignore[attr-defined]
    assert counts(page) == {"create": 27, "change": 0, "unchanged": 0, "refused": 3}
    table = page.split('data-testid="plan-table"', 1)[1]
    for line, serial in ((6, "XL-BAD1"), (11, "XL-BAD2"), (22, "XL-BAD3")):  # sheet rows (header = row 1)
        assert f"<td>{line}</td><td>Acme X-30 {serial}</td>" in table
    assert "R 76" in table
    good = [r for i, r in enumerate(rows) if i not in (4, 9, 20)]
    page = upload(tech, workbook(good)).text  # type: ignore[attr-defined]
    done = tech.post("/web/import/commit", content=commit_content(page))
    assert done.status_code == 303
    assert "created=27" in done.headers["location"]
    verify_audit(demo.app.state.hengqi.database)  # the bulk commit kept the chain and bound every row
    # the export keeps the filter and the sort, in both formats
    url = "/web/registry/instruments?q=XL-&sort=-serial&export="
    csv_text = tech.client.get(url + "csv").text
    book = load_workbook(io.BytesIO(tech.client.get(url + "xlsx").content), read_only=True)
    sheet = book.worksheets[0]
    got = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert got[0][:4] == ["id", *got[0][1:4]]
    serials = [r[got[0].index("serial")] for r in got[1:]]
    assert len(serials) == 27
    assert serials == sorted(serials, reverse=True)
    assert csv_text.count("\r\n") == 28
    assert tech.client.get(url + "pdf").status_code == 422
    due = tech.client.get("/web/due?days=3650&export=xlsx")
    assert due.status_code == 200
    assert due.content.startswith(b"PK")


def test_xlsx_export_neutralises_formulas(demo: Demo) -> None:
    tech = demo.user("technician")
    text = ",".join(HEADER) + '\r\n"=HYPERLINK(""http://x"")",M,S-1,III,30,0.01,in-service,\r\n'
    page = upload(tech, text.encode(), name="i.csv")
    assert tech.post("/web/import/commit", content=commit_content(page.text)).status_code == 303  # type: ignore[attr-defined]
    data = tech.client.get("/web/registry/instruments?q=S-1&export=xlsx").content
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # written as text, never as a formula
    book = load_workbook(io.BytesIO(data))
    assert any(c.value == '\'=HYPERLINK("http://x")' for row in book.worksheets[0].iter_rows() for c in row)


def _bomb() -> bytes:
    """A valid-looking workbook whose sheet expands from ~100 kB to 100 MB of zeros."""
    good = zipfile.ZipFile(io.BytesIO(workbook([])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in good.infolist():
            data = good.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data += b" " * (100 * 1024 * 1024)
            bomb.writestr(item.filename, data)
    return out.getvalue()


def test_hostile_workbooks_are_refused_with_the_reason(demo: Demo) -> None:
    tech = demo.user("technician")
    cases: list[tuple[bytes, str]] = [
        (b"PK\x03\x04 this is no archive", "damaged ZIP"),
        (_bomb(), "ZIP bomb"),
        (workbook([["A"] * 70]), "more than 64 columns"),
        (workbook([], header=["make", "password_hash"]), "unknown column"),
        (workbook([], header=[]), "is empty"),
    ]
    only_text = io.BytesIO()
    with zipfile.ZipFile(only_text, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<not-closed")
    cases.append((only_text.getvalue(), "not a readable XLSX workbook"))
    for content, reason in cases:
        answer = upload(tech, content)
        assert answer.status_code == 422, (reason, answer.status_code)  # type: ignore[attr-defined]
        assert reason in answer.text, (reason, answer.text[-2000:])  # type: ignore[attr-defined]
