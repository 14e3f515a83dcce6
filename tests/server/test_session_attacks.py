"""Attacks on sign-in and sessions, performed against a real ``hengqi serve`` (issue 10, items 2 to 4).

* forged sessions: a cookie minted from the key that used to be compiled into the code is refused; the generated
  key file is private (0600) and reused; a non-loopback start without a configured key is refused;
* sessions end on the server: a cookie reused after logout, password change, role change, deactivation, idle or
  absolute timeout answers 401; each login gets a new session id;
* throttling: 200 wrong passwords then the right one are refused during the lockout; unknown and known names get
  identical answers; only checked attempts are hashed and audited, never with the password; the access log names
  method, path, status, duration and user, never secrets (per-address limits: ``test_throttle.py``).

Each runs on SQLite and on PostgreSQL (the sessions live in the database).
"""

from __future__ import annotations

import io
import re
import secrets
import stat
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import httpx
import pytest
from itsdangerous import Signer, URLSafeTimedSerializer
from sqlalchemy import select
from tests.server.conftest import Store
from tests.server.live import LiveServer, login_token

from hengqi.cli import cli
from hengqi.server.db.engine import Database
from hengqi.server.db.models import AuditEntry, BrowserSession
from hengqi.server.keys import KEY_FILE

pytestmark = pytest.mark.slow

ADMIN_PASSWORD = "a-long-admin-password"
PASSWORD = "tina-has-a-long-password"
#: The key that was compiled into hengqi.server.settings up to commit a8f5e81 (what an attacker reads in the source).
OLD_BUILT_IN_KEY = "hengqi-development-secret-key-do-not-use-in-production"


@dataclass
class Live:
    server: LiveServer
    admin: dict[str, str]
    admin_id: int
    store: Store

    @property
    def base(self) -> str:
        return self.server.base

    def user(self, username: str, role: str = "technician") -> int:
        body = {"username": username, "password": PASSWORD, "role": role}
        made = httpx.post(f"{self.base}/api/v1/users", json=body, headers=self.admin, timeout=30)
        assert made.status_code == 201, made.text
        return int(made.json()["id"])

    def audit(self) -> list[AuditEntry]:
        database = Database(self.store.database_url)
        try:
            with database.read_session() as session:
                return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        finally:
            database.dispose()


def _create_admin(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(ADMIN_PASSWORD + "\n"))
    args = ["users", "create-admin", "--data-dir", str(store.data_dir), "--database-url", store.database_url]
    assert cli([*args, "--username", "root", "--organisation", "Lab A", "--password-stdin"]) == 0


@pytest.fixture
def live_factory(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    started: list[LiveServer] = []

    def start(*extra: str, **env: str) -> Live:
        for name, value in env.items():
            monkeypatch.setenv(f"HENGQI_{name.upper()}", value)
        if not started:
            _create_admin(monkeypatch, store)
        server = LiveServer(store.data_dir, store.database_url, *extra)
        started.append(server)
        server.wait_healthy()
        admin = login_token(server.base, "root", ADMIN_PASSWORD)
        me = httpx.get(f"{server.base}/api/v1/auth/me", headers=admin, timeout=30).json()["id"]
        return Live(server, admin, int(me), store)

    yield start
    for server in started:
        server.stop()


def _sign_in(base: str, username: str, password: str) -> tuple[httpx.Client, str, str]:
    """A browser-like client signed in; returns it with the session cookie value and the CSRF token."""
    client = httpx.Client(base_url=base, timeout=30)
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return client, client.cookies["hengqi_session"], answer.json()["csrf_token"]


def _me_with(base: str, cookie: str) -> int:
    return httpx.get(f"{base}/api/v1/auth/me", cookies={"hengqi_session": cookie}, timeout=30).status_code


# -- item 2: forged sessions ------------------------------------------------------------------------------------
def test_cookie_minted_with_the_old_built_in_key_is_refused(live_factory: object) -> None:
    live = live_factory()  # type: ignore[operator]
    # the attack as it worked before: the signed-cookie format and key read from the source
    old_format = URLSafeTimedSerializer(OLD_BUILT_IN_KEY, salt="hengqi.session")
    forged = old_format.dumps({"uid": live.admin_id, "csrf": "attacker"})
    cookies = {"hengqi_session": forged, "hengqi_csrf": "attacker"}
    assert httpx.get(f"{live.base}/api/v1/auth/me", cookies=cookies, timeout=30).status_code == 401
    body = {"username": "mallory", "password": PASSWORD, "role": "admin"}
    made = httpx.post(
        f"{live.base}/api/v1/users", json=body, cookies=cookies, headers={"X-CSRF-Token": "attacker"}, timeout=30
    )
    assert made.status_code == 401
    # the new cookie format with the old key, and with a guessed session id, is refused too
    new_format = Signer([OLD_BUILT_IN_KEY], salt="hengqi.session.v2", digest_method=sha256)
    assert _me_with(live.base, new_format.sign(secrets.token_urlsafe(32)).decode()) == 401
    # the key in use is a generated one, private to its owner, and sessions survive a restart with it
    key_file = live.store.data_dir / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 43
    assert key != OLD_BUILT_IN_KEY
    _client, cookie, _csrf = _sign_in(live.base, "root", ADMIN_PASSWORD)
    assert _me_with(live.base, cookie) == 200
    live.server.stop()
    again = live_factory()  # type: ignore[operator]
    assert key_file.read_text().strip() == key
    assert _me_with(again.base, cookie) == 200
    # ... and a cookie signed with the real key but naming no stored session is refused
    real = Signer([key], salt="hengqi.session.v2", digest_method=sha256)
    assert _me_with(again.base, real.sign(secrets.token_urlsafe(32)).decode()) == 401


def test_non_loopback_start_without_a_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HENGQI_SECRET_KEY", raising=False)
    monkeypatch.setenv("HENGQI_ENV", "development")
    for host in ("0.0.0.0", "192.0.2.10", "::"):
        assert cli(["serve", "--host", host, "--data-dir", str(tmp_path / "d")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        assert "secret_key" in err
        assert "HENGQI_SECRET_KEY (at least 32 random characters)" in err
        assert host in err
    assert not (tmp_path / "d" / KEY_FILE).exists()
    # a short configured key is refused everywhere
    monkeypatch.setenv("HENGQI_SECRET_KEY", "too-short")
    assert cli(["serve", "--data-dir", str(tmp_path / "d")]) == 2
    assert "at least 32" in capsys.readouterr().err


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    from hengqi.errors import InputError
    from hengqi.server.keys import session_keys
    from hengqi.server.settings import Settings

    settings = Settings(env="test", data_dir=tmp_path)
    first = session_keys(settings)
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(InputError, match="chmod 600"):
        session_keys(settings)
    (tmp_path / KEY_FILE).chmod(0o600)
    assert session_keys(settings) == first
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temporary file left behind


# -- item 3: server-side sessions --------------------------------------------------------------------------------
def test_sessions_end_on_logout_password_role_change_and_deactivation(live_factory: object) -> None:
    live = live_factory()  # type: ignore[operator]
    tina = live.user("tina")
    client, cookie, csrf = _sign_in(live.base, "tina", PASSWORD)
    assert _me_with(live.base, cookie) == 200
    # a stolen copy of the database holds only the SHA-256 of the session id
    database = Database(live.store.database_url)
    with database.read_session() as session:
        stored = list(session.scalars(select(BrowserSession.token_sha256)))
    database.dispose()
    assert stored
    assert all(cookie.split(".")[0] not in value for value in stored)
    # logout (needs the CSRF token) ends this and every other session of the user; the copied cookie is dead
    _other, other_cookie, _ = _sign_in(live.base, "tina", PASSWORD)
    assert client.post("/api/v1/auth/logout").status_code == 403
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert _me_with(live.base, cookie) == 401
    assert _me_with(live.base, other_cookie) == 401

    changes: list[dict[str, object]] = [
        {"password": "tina-has-a-new-password"},
        {"role": "reviewer"},
        {"active": False},
    ]
    password = PASSWORD
    for change in changes:
        _client, cookie, _csrf = _sign_in(live.base, "tina", password)
        assert _me_with(live.base, cookie) == 200
        answer = httpx.patch(f"{live.base}/api/v1/users/{tina}", json=change, headers=live.admin, timeout=30)
        assert answer.status_code == 200, answer.text
        assert _me_with(live.base, cookie) == 401, change
        password = str(change.get("password", password))
    # a change that is not about access (the full name) leaves sessions alone
    httpx.patch(f"{live.base}/api/v1/users/{tina}", json={"active": True}, headers=live.admin, timeout=30)
    _client, cookie, _csrf = _sign_in(live.base, "tina", password)
    httpx.patch(f"{live.base}/api/v1/users/{tina}", json={"full_name": "Tina T"}, headers=live.admin, timeout=30)
    assert _me_with(live.base, cookie) == 200
    # API tokens stay as they are: the admin's token outlived all of this
    assert httpx.get(f"{live.base}/api/v1/auth/me", headers=live.admin, timeout=30).status_code == 200
    actions = [entry.action for entry in live.audit()]
    assert actions.count("end_sessions") == 3


def test_new_session_id_at_login_and_web_logout(live_factory: object) -> None:
    live = live_factory()  # type: ignore[operator]
    live.user("tina")
    body = {"username": "tina", "password": PASSWORD}

    def login_with(cookie: str) -> str:
        answer = httpx.post(
            f"{live.base}/api/v1/auth/login", json=body, headers={"Cookie": f"hengqi_session={cookie}"}, timeout=30
        )
        assert answer.status_code == 200
        return answer.cookies["hengqi_session"]

    planted = "attacker-chosen-session-id"  # session fixation: a value planted in the victim's browser
    first = login_with(planted)
    assert planted not in first
    second = login_with(first)
    assert second != first
    assert _me_with(live.base, first) == 401  # the session the browser had before this login was ended
    assert _me_with(live.base, second) == 200
    # the web interface's sign-out ends the sessions on the server as well
    with httpx.Client(base_url=live.base, timeout=30) as client:
        _, cookie, csrf = _sign_in(live.base, "tina", PASSWORD)
        client.cookies.set("hengqi_session", cookie)
        client.cookies.set("hengqi_csrf", csrf)
        assert client.get("/web/").status_code == 200
        client.post("/web/logout", data={"csrf_token": csrf})
        assert _me_with(live.base, cookie) == 401
        assert _me_with(live.base, second) == 401


def test_idle_and_absolute_timeouts(live_factory: object) -> None:
    live = live_factory(session_idle_timeout_s="2", session_max_age_s="5")  # type: ignore[operator]
    live.user("tina")
    _client, idle_cookie, _ = _sign_in(live.base, "tina", PASSWORD)
    _client, busy_cookie, _ = _sign_in(live.base, "tina", PASSWORD)
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:  # keep one session busy while the other sits idle
        assert _me_with(live.base, busy_cookie) == 200
        time.sleep(0.5)
    assert _me_with(live.base, idle_cookie) == 401
    assert _me_with(live.base, busy_cookie) == 200
    deadline = time.monotonic() + 3.0
    statuses = []
    while time.monotonic() < deadline:  # busy, but past the absolute timeout of 5 s
        statuses.append(_me_with(live.base, busy_cookie))
        time.sleep(0.5)
    assert statuses[-1] == 401


# -- item 4: throttling, audit, access log -----------------------------------------------------------------------
def _attempt(base: str, username: str, password: str) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/auth/login", json={"username": username, "password": password}, timeout=30)


def test_200_wrong_passwords_then_the_right_one_is_refused(live_factory: object) -> None:
    live = live_factory("--access-log")  # type: ignore[operator]
    live.user("tina")
    started = time.monotonic()
    statuses = [_attempt(live.base, "tina", f"guess-{n:03d}-password").status_code for n in range(200)]
    elapsed = time.monotonic() - started
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    right = _attempt(live.base, "tina", PASSWORD)
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) >= 1
    assert right.json()["error"]["code"] == "too_many_attempts"
    assert "set-cookie" not in right.headers
    # only the 5 checked attempts were hashed and audited; the password is in no audit row
    entries = [e for e in live.audit() if e.action == "login_failed"]
    assert len(entries) == 5
    assert all('"username":"tina"' in e.new_values and '"reason":"wrong password"' in e.new_values for e in entries)
    assert not [e for e in live.audit() if "guess-" in e.new_values + e.old_values]
    # the other 195 were answered without hashing: far quicker than 195 argon2 checks would take
    assert elapsed < 60
    # an API token is not throttled by a lockout of the password
    assert httpx.get(f"{live.base}/api/v1/auth/me", headers=live.admin, timeout=30).status_code == 200
    # the access log names method, path, status, duration and user; never a password, cookie, token or query
    client, cookie, csrf = _sign_in(live.base, "root", ADMIN_PASSWORD)
    assert client.get("/api/v1/instruments", params={"q": "secret-query"}).status_code == 200
    token = live.admin["Authorization"].removeprefix("Bearer ")
    live.server.stop()
    log = live.server.log.read_text()
    assert len(re.findall(r" POST /api/v1/auth/login 429 [0-9.]+ms user=-", log)) == 196
    assert len(re.findall(r" POST /api/v1/auth/login 401 [0-9.]+ms user=-", log)) == 5
    assert re.search(r" POST /api/v1/auth/login 200 [0-9.]+ms user=-", log)
    assert re.search(rf" GET /api/v1/instruments 200 [0-9.]+ms user={live.admin_id}\n", log)
    assert re.search(rf" GET /api/v1/auth/me 200 [0-9.]+ms user={live.admin_id}\n", log)
    for secret in (ADMIN_PASSWORD, PASSWORD, "guess-", cookie, csrf, token, "secret-query"):
        assert secret not in log


def test_unknown_and_known_names_answer_alike(live_factory: object) -> None:
    live = live_factory(login_address_failures="1000")  # type: ignore[operator]
    live.user("tina")
    known = [_attempt(live.base, "tina", f"wrong-password-{n}") for n in range(7)]
    unknown = [_attempt(live.base, "nobody-here", f"wrong-password-{n}") for n in range(7)]
    assert [a.status_code for a in known] == [a.status_code for a in unknown] == [401] * 5 + [429] * 2
    for a, b in zip(known, unknown, strict=True):
        assert a.content == b.content
        assert a.headers.get("retry-after") == b.headers.get("retry-after")
        assert a.headers.get("www-authenticate") == b.headers.get("www-authenticate")
    # timing: both pay one argon2 check (the unknown name against a dummy hash); fresh names, below the limit
    live.user("tina2")
    known_s: list[float] = []
    unknown_s: list[float] = []
    for n in range(4):
        for name, times in (("tina2", known_s), ("nobody2", unknown_s)):
            started = time.perf_counter()
            assert _attempt(live.base, name, f"wrong-{n}").status_code == 401
            times.append(time.perf_counter() - started)
    ratio = statistics.median(known_s) / statistics.median(unknown_s)
    assert 0.5 < ratio < 2.0, (known_s, unknown_s)
    # the audit trail tells them apart (for the laboratory), the answers do not
    failed = [e.new_values for e in live.audit() if e.action == "login_failed"]
    assert {re.sub(r'.*"reason":"([a-z ]+)".*', r"\1", values) for values in failed} == {
        "wrong password",
        "unknown user",
    }


def test_an_address_out_of_failures_is_answered_before_its_body_is_read(live_factory: object) -> None:
    """The login gate answers an API sign-in from a locked-out address itself, with the route's own 429."""
    live = live_factory(login_address_failures="3", login_account_failures="100")  # type: ignore[operator]
    assert [_attempt(live.base, f"name-{n}", "wrong").status_code for n in range(3)] == [401] * 3
    locked = _attempt(live.base, "someone-else", "wrong")
    assert locked.status_code == 429
    error = locked.json()["error"]
    assert error["code"] == "too_many_attempts"
    assert locked.headers["retry-after"] == str(error["details"]["retry_after_s"])
    assert error["message"] == f"too many failed sign-ins; try again in {error['details']['retry_after_s']} s"
    # not even read: a body that the route would refuse (422) is answered 429 too
    junk = httpx.post(f"{live.base}/api/v1/auth/login", content=b"{not json", timeout=10)
    assert junk.status_code == 429
    assert junk.json()["error"]["code"] == "too_many_attempts"
