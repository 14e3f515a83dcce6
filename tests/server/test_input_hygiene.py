"""Odd text against a real ``hengqi serve`` (SQLite and PostgreSQL): NUL characters, non-Latin-1 file names, other
scripts' digits, serial numbers differing in case, spreadsheet formulas in CSV exports, a cross-site sign-out, and
the security headers of every answer."""

from __future__ import annotations

import csv
import io
import re
import socket
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from tests.server.conftest import INSTRUMENT, PASSWORD, Store, empty_pg
from tests.server.live import LiveServer, login_token

from hengqi.server.admin import open_database
from hengqi.server.headers import CSP
from hengqi.server.permissions import Role
from hengqi.server.schemas.accounts import UserCreate
from hengqi.server.schemas.registry import OrganisationCreate
from hengqi.server.services import accounts


@dataclass
class Served:
    server: LiveServer
    manager: dict[str, str]  # API token headers of a quality manager
    technician: dict[str, str]

    @property
    def base(self) -> str:
        return self.server.base

    def client(self, headers: dict[str, str] | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=headers or {}, timeout=60)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One live server per backend for this module (starting one costs seconds)."""
    folder = tmp_path_factory.mktemp(f"hygiene-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'data' / 'hengqi.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_database")
        empty_pg(url)
    store = Store(request.param, folder / "data", url)
    database = open_database(store.settings(), migrate=True)
    with database.write_session() as session:
        org = accounts.create_organisation(session, accounts.SYSTEM, OrganisationCreate(name="Lab"))
        session.flush()
        for name, role in (("quinn", Role.QUALITY_MANAGER), ("tina", Role.TECHNICIAN)):
            accounts.create_user(
                session,
                accounts.SYSTEM,
                UserCreate(username=name, password=PASSWORD, role=role, organisation_id=org.id),
            )
        session.commit()
    database.dispose()
    server = LiveServer(store.data_dir, store.database_url)
    try:
        assert server.wait_healthy().status_code == 200
        yield Served(server, login_token(server.base, "quinn", PASSWORD), login_token(server.base, "tina", PASSWORD))
    finally:
        server.stop()


def web_session(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/web/login").text)
    assert token is not None
    answer = client.post(
        "/web/login",
        data={"username": username, "password": PASSWORD, "login_csrf": token.group(1), "next": "/web/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def test_nul_characters_answer_4xx_never_500(served: Served) -> None:
    with served.client() as anonymous:
        for body in ({"username": "quinn\x00", "password": PASSWORD}, {"username": "a", "password": "b\x00c"}):
            answer = anonymous.post("/api/v1/auth/login", json=body)
            assert 400 <= answer.status_code < 500, answer.text
        token = re.search(r'name="login_csrf" value="([^"]+)"', anonymous.get("/web/login").text)
        assert token is not None
        form = anonymous.post(
            "/web/login",
            data={"username": "quinn\x00", "password": PASSWORD, "login_csrf": token.group(1)},
            follow_redirects=False,
        )
        assert 400 <= form.status_code < 500, form.text
    with served.client(served.manager) as manager:
        for body in (
            {**INSTRUMENT, "serial": "NUL\x00-1"},
            {**INSTRUMENT, "serial": "N-2", "make": "\x00"},
            {**INSTRUMENT, "serial": "N-3", "type_approval": "T\x00A"},
        ):
            answer = manager.post("/api/v1/instruments", json=body)
            assert answer.status_code == 422, answer.text
            assert "NUL" in answer.json()["error"]["message"]
        assert manager.post("/api/v1/sites", json={"name": "S", "address": "a\x00b"}).status_code == 422
        target = manager.post("/api/v1/instruments", json={**INSTRUMENT, "serial": "NUL-RUN"})
        assert target.status_code == 201, target.text
        run = manager.post(
            "/api/v1/runs",
            json={"instrument_id": target.json()["id"], "kind": "routine-test", "raw_data": {"note\x00": "a\x00b"}},
        )
        assert run.status_code < 500, run.text
        assert manager.get("/api/v1/runs", params={"limit": 1000}).status_code == 200
        for query in ("/api/v1/instruments?q=%00", "/api/v1/instruments?serial=%00", "/api/v1/instruments/%00"):
            assert manager.get(query).status_code < 500, query
        assert manager.get("/api/v1/instruments").status_code == 200
        for name in ("NUL\x00-1", "N-2", "N-3"):
            listed = manager.get("/api/v1/instruments", params={"limit": 1000}).json()["items"]
            assert all(item["serial"] != name for item in listed)
    with closing(web_session(served.base, "quinn")) as browser:
        page = browser.get("/web/instruments", params={"q": "x\x00y"})
        assert page.status_code < 500


def test_non_latin1_file_names_download(served: Served, tmp_path: Path) -> None:
    with served.client(served.manager) as manager:
        instrument = manager.post("/api/v1/instruments", json={**INSTRUMENT, "serial": "FILE-1"})
        assert instrument.status_code == 201, instrument.text
        made = manager.post(
            "/api/v1/certificates",
            json={"number": "证书-2026-001", "kind": "calibration", "instrument_id": instrument.json()["id"]},
        )
        assert made.status_code == 201, made.text
        key = made.json()["id"]
        name = "证书 2026 ü.pdf"
        body = b"%PDF-1.4 test document\n"
        upload = manager.put(
            f"/api/v1/certificates/{key}/file", files={"file": (name, body, 'application/pdf; name="证"')}
        )
        assert upload.status_code == 200, upload.text
        download = manager.get(f"/api/v1/certificates/{key}/file")
        assert download.status_code == 200, download.text
        assert download.content == body
        assert download.headers["content-type"] == "application/octet-stream"  # the odd media type was dropped
        disposition = download.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="')
        star = re.search(r"filename\*=UTF-8''(\S+)", disposition)
        assert star is not None
        assert unquote(star.group(1)) == name
        assert 'filename="__ 2026 _.pdf"' in disposition  # the ASCII fallback
        assert disposition.isascii()
    with closing(web_session(served.base, "quinn")) as browser:
        pdf = browser.get(f"/web/certificates/{key}/pdf")
        assert pdf.status_code == 200
        assert "filename*=UTF-8''" in pdf.headers["content-disposition"]


def test_other_scripts_digits_are_not_numbers(served: Served) -> None:
    with served.client(served.manager) as manager:
        for field, value in (("max", "١٥ kg"), ("e", "٥ g"), ("max", "15 kg"), ("e", "۵ g")):
            body = {**INSTRUMENT, "serial": f"DIGITS-{field}-{value}", field: value}
            answer = manager.post("/api/v1/instruments", json=body)
            if value.isascii():
                assert answer.status_code == 201, answer.text
            else:
                assert answer.status_code == 422, (value, answer.text)
        site = manager.post("/api/v1/sites", json={"name": "Digits", "latitude": "٣١.٢"})
        assert site.status_code == 422, site.text


def test_serial_numbers_are_unique_ignoring_case(served: Served) -> None:
    with served.client(served.manager) as manager:
        first = manager.post("/api/v1/instruments", json={**INSTRUMENT, "serial": "SN-Case-1"})
        assert first.status_code == 201
        for twin in ("sn-case-1", "SN-CASE-1"):
            again = manager.post("/api/v1/instruments", json={**INSTRUMENT, "serial": twin})
            assert again.status_code == 409, again.text
        other = manager.post("/api/v1/instruments", json={**INSTRUMENT, "serial": "SN-Case-2"})
        assert other.status_code == 201
        renamed = manager.patch(f"/api/v1/instruments/{other.json()['id']}", json={"serial": "sn-CASE-1"})
        assert renamed.status_code == 409, renamed.text
        assert manager.get(f"/api/v1/instruments/{other.json()['id']}").json()["serial"] == "SN-Case-2"


def test_csv_exports_neutralise_formulas(served: Served) -> None:
    with served.client(served.manager) as manager:
        for serial in ('=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3"):
            made = manager.post("/api/v1/instruments", json={**INSTRUMENT, "serial": serial, "model": "CSV"})
            assert made.status_code == 201, made.text
        export = manager.get("/api/v1/instruments", params={"format": "csv", "limit": 1000})
        assert export.status_code == 200
        assert "filename*=UTF-8''instruments.csv" in export.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(export.text)))
    serials = [row["serial"] for row in rows if row["model"] == "CSV"]
    assert len(serials) == 4
    assert all(s.startswith("'") for s in serials), serials
    numbers = [row["max_kg"] for row in rows if row["model"] == "CSV"]
    assert all(n[0].isdigit() for n in numbers)  # plain numbers stay numbers


def test_signing_out_needs_the_csrf_token(served: Served) -> None:
    with closing(web_session(served.base, "tina")) as browser:
        forged = browser.post("/web/logout", data={}, follow_redirects=False)  # what another site's form can send
        assert forged.status_code == 403
        assert browser.get("/web/", follow_redirects=False).status_code == 200  # still signed in
        wrong = browser.post("/web/logout", data={"csrf_token": "guess"}, follow_redirects=False)
        assert wrong.status_code == 403
        page = browser.get("/web/")
        assert 'name="csrf_token"' in page.text.split("/logout", 1)[1][:300]  # the sign-out form carries it
        done = browser.post(
            "/web/logout", data={"csrf_token": browser.cookies.get("hengqi_csrf")}, follow_redirects=False
        )
        assert done.status_code == 303
        assert browser.get("/web/", follow_redirects=False).status_code == 303  # sent to the sign-in page


def test_every_answer_has_the_security_headers(served: Served) -> None:
    with served.client(served.manager) as manager:
        answers = [
            manager.get("/api/v1/health"),
            manager.get("/api/v1/instruments"),
            manager.get("/api/v1/instruments/999999"),
            manager.post("/api/v1/instruments", json={"serial": []}),
            manager.get("/web/login"),
            manager.get("/web/static/app.css"),
            manager.get("/web/static/app.js"),
            manager.get("/nowhere"),
            manager.get("/", follow_redirects=False),
        ]
        docs = manager.get("/api/v1/docs")
    for answer in [*answers, docs]:
        headers = answer.headers
        assert headers["x-frame-options"] == "DENY", answer.url
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert all(a.headers["content-security-policy"] == CSP for a in answers)
    assert "'unsafe-inline'" not in CSP
    assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]  # the Swagger UI page only


def test_the_pages_need_nothing_the_policy_forbids() -> None:
    """No inline script, inline style or event handler attribute in the templates (the CSP forbids them)."""
    folder = Path(__file__).resolve().parents[2] / "src" / "hengqi" / "server" / "web" / "templates"
    for template in folder.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\ssrc=)", text), template.name
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=|javascript:", text, re.IGNORECASE), template.name


def test_even_an_unexpected_error_carries_the_headers(sqlite_store: Store) -> None:
    from fastapi.testclient import TestClient

    from hengqi.server.app import create_app

    app = create_app(sqlite_store.settings())

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("internal detail")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/boom")
    assert answer.status_code == 500
    assert "internal detail" not in answer.text
    assert answer.headers["content-security-policy"] == CSP
    assert answer.headers["x-frame-options"] == "DENY"
    app.state.hengqi.database.dispose()


#: Requests no HTTP/1.1 parser may take (RFC 9112, 3 and 5): each must be answered 4xx (or the connection closed
#: without an answer), never 5xx, and the server must go on serving.
MALFORMED = (
    b"GARBAGE\r\n\r\n",  # no method, target and version
    b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nNo-Colon-Here\r\n\r\n",  # a field line without a colon
    b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n",  # NUL in a field value
    b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
    b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET /api/v1/health HTTP/9.9\r\nHost: x\r\n\r\n",  # an unknown version
    b"GET /api/v1/he alth HTTP/1.1\r\nHost: x\r\n\r\n",  # a space inside the target
)


@pytest.mark.parametrize("request_bytes", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_http_is_answered_4xx_and_the_server_goes_on(served: Served, request_bytes: bytes) -> None:
    """Under ``hengqi serve``'s HTTP parser (:data:`hengqi.server.runtime.SERVER_HTTP`)."""
    with closing(socket.create_connection(("127.0.0.1", served.server.port), timeout=30)) as connection:
        connection.sendall(request_bytes)
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    if answer:  # a parser may also just close the connection
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, answer[:200]
    with served.client() as client:
        assert client.get("/api/v1/health").status_code == 200
