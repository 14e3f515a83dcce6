"""Browser sessions (signed cookie) with CSRF double-submit; API tokens; passwords hashed with argon2."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.server.conftest import INSTRUMENT, PASSWORD, Platform

from hengqi.server.db.models import ApiToken, User


def test_login_session_and_csrf(platform: Platform) -> None:
    org = platform.organisation("A")
    platform.user("tina", "technician", org)
    client = platform.client
    assert client.post("/api/v1/auth/login", json={"username": "tina", "password": "wrong-password"}).status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": "nobody", "password": PASSWORD}).status_code == 401
    login = client.post("/api/v1/auth/login", json={"username": "tina", "password": PASSWORD})
    assert login.status_code == 200
    csrf = login.json()["csrf_token"]
    assert "httponly" in login.headers["set-cookie"].lower()
    assert client.get("/api/v1/auth/me").json()["username"] == "tina"
    assert client.get("/api/v1/instruments").status_code == 200  # safe methods need no token
    refused = client.post("/api/v1/instruments", json=INSTRUMENT)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    wrong = client.post("/api/v1/instruments", json=INSTRUMENT, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    ok = client.post("/api/v1/instruments", json=INSTRUMENT, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    # a forged cookie is not a session
    client.cookies.set("hengqi_session", "forged.value.here")
    assert client.get("/api/v1/auth/me").status_code == 401
    client.cookies.clear()
    assert client.get("/api/v1/auth/me").status_code == 401


def test_passwords_are_argon2_and_tokens_stored_hashed(platform: Platform) -> None:
    org = platform.organisation("A")
    _, headers = platform.user("tina", "technician", org)
    token = headers["Authorization"].removeprefix("Bearer ")
    with platform.database.read_session() as session:
        user = session.scalar(select(User).where(User.username == "tina"))
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        stored = list(session.scalars(select(ApiToken.token_sha256)))
        assert token not in stored
        assert len(stored) == 1
        assert len(stored[0]) == 64


def test_token_lifecycle(platform: Platform) -> None:
    org = platform.organisation("A")
    _, headers = platform.user("tina", "technician", org)
    made = platform.client.post("/api/v1/auth/tokens", json={"name": "scale-gateway"}, headers=headers)
    assert made.status_code == 201
    token = made.json()["token"]
    mine = {"Authorization": f"Bearer {token}"}
    assert platform.client.get("/api/v1/auth/me", headers=mine).status_code == 200
    listed = platform.client.get("/api/v1/auth/tokens", headers=mine).json()
    assert all("token" not in item for item in listed)
    assert platform.client.delete(f"/api/v1/auth/tokens/{made.json()['id']}", headers=headers).status_code == 200
    assert platform.client.get("/api/v1/auth/me", headers=mine).status_code == 401
    past = platform.client.post(
        "/api/v1/auth/tokens", json={"name": "old", "expires_at": "2000-01-01T00:00:00Z"}, headers=headers
    )
    assert past.status_code == 422


def test_deactivated_user_loses_access(platform: Platform) -> None:
    org = platform.organisation("A")
    tina, headers = platform.user("tina", "technician", org)
    _, admin = platform.user("root", "admin", org)
    assert platform.client.patch(f"/api/v1/users/{tina}", json={"active": False}, headers=admin).status_code == 200
    me = platform.client.get("/api/v1/auth/me", headers=admin).json()["id"]
    assert platform.client.patch(f"/api/v1/users/{me}", json={"active": False}, headers=admin).status_code == 409
    assert platform.client.patch(f"/api/v1/users/{me}", json={"role": "technician"}, headers=admin).status_code == 409
    assert platform.client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_token_check_in_one_query_keeps_every_refusal(platform: Platform) -> None:
    """principal_for_token (the per-request check) answers as user_for_token + principal_of: a token that expired
    after it was made, a revoked one, an unknown one and one of a deactivated user are refused; a regulator's
    grants are part of the principal."""
    from datetime import timedelta

    from hengqi.server.db.models import RegulatorGrant
    from hengqi.server.db.types import utcnow
    from hengqi.server.errors import AuthenticationError
    from hengqi.server.services import accounts

    org = platform.organisation("A")
    other = platform.organisation("B")
    _, tech = platform.user("tina", "technician", org)
    regulator, reg = platform.user("rita", "regulator", org)
    tech_token = tech["Authorization"].removeprefix("Bearer ")
    reg_token = reg["Authorization"].removeprefix("Bearer ")
    with platform.database.write_session() as session:
        session.add(RegulatorGrant(user_id=regulator, organisation_id=other))
        session.commit()
    with platform.database.read_session() as session:
        principal = accounts.principal_for_token(session, reg_token)
        assert principal == accounts.principal_of(session, accounts.user_for_token(session, reg_token))
        assert principal.sees(other)
        assert accounts.principal_for_token(session, tech_token).username == "tina"
        with pytest.raises(AuthenticationError, match="invalid or expired"):
            accounts.principal_for_token(session, "hq_not-a-token")
    for change in ("expired", "revoked", "inactive"):
        with platform.database.write_session() as session:
            row = session.scalar(select(ApiToken).where(ApiToken.user_id != regulator).order_by(ApiToken.id.desc()))
            assert row is not None
            if change == "expired":
                row.expires_at = utcnow() - timedelta(seconds=1)
            elif change == "revoked":
                row.expires_at = None
                row.revoked_at = utcnow()
            else:
                row.revoked_at = None
                user = session.get(User, row.user_id)
                assert user is not None
                user.active = False
            session.commit()
        with platform.database.read_session() as session, pytest.raises(AuthenticationError):
            accounts.principal_for_token(session, tech_token)
        assert platform.client.get("/api/v1/auth/me", headers=tech).status_code == 401
