"""Users, roles and API tokens from the browser: the administrator's user screens and everyone's own tokens.

Attacked as every other role (403), as a user of another organisation, without the CSRF token, and with a stale
form; the session-ending changes are checked against the user's real browser session."""

from __future__ import annotations

import re

import pytest
from tests.web.conftest import Demo, WebUser
from tests.web.test_manage import other_org_user

from hengqi.server.permissions import Role

PASSWORD = "Correct-Horse-Battery-9"


def make_user(admin: WebUser, username: str = "new-tech", role: str = "technician") -> int:
    answer = admin.post("/web/users", username=username, full_name="New Tech", role=role, password=PASSWORD)
    assert answer.status_code == 303, answer.text
    found = re.search(r"/web/users/(\d+)\?saved=1$", answer.headers["location"])
    assert found is not None
    return int(found.group(1))


def version(admin: WebUser, key: int) -> str:
    found = re.search(r'name="row_version" value="(\d+)"', admin.client.get(f"/web/users/{key}").text)
    assert found is not None
    return found.group(1)


def signed_in(user: WebUser) -> bool:
    answer = user.client.get("/web/", follow_redirects=False)
    return answer.status_code == 200


def test_admin_creates_a_user_who_can_sign_in(demo: Demo) -> None:
    admin = demo.user("admin")
    key = make_user(admin)
    listing = admin.client.get("/web/users")
    assert f'href="/web/users/{key}">new-tech<' in listing.text
    assert signed_in(WebUser.sign_in(demo.app, "new-tech", PASSWORD))


def test_role_change_deactivation_and_password_reset_end_the_sessions(demo: Demo) -> None:
    admin = demo.user("admin")
    key = make_user(admin)
    person = WebUser.sign_in(demo.app, "new-tech", PASSWORD)
    changed = admin.post(f"/web/users/{key}", full_name="New Tech", role="reviewer", row_version=version(admin, key))
    assert changed.status_code == 303
    assert not signed_in(person)
    assert "reviewer" in admin.client.get(f"/web/users/{key}").text

    person = WebUser.sign_in(demo.app, "new-tech", PASSWORD)
    reset = admin.post(f"/web/users/{key}/password", password="Another-Long-Passw0rd", row_version=version(admin, key))
    assert reset.status_code == 303
    assert not signed_in(person)
    person = WebUser.sign_in(demo.app, "new-tech", "Another-Long-Passw0rd")

    off = admin.post(f"/web/users/{key}/active", active="false", row_version=version(admin, key))
    assert off.status_code == 303
    assert not signed_in(person)
    assert 'data-testid="inactive"' in admin.client.get(f"/web/users/{key}").text
    with pytest.raises(AssertionError):
        WebUser.sign_in(demo.app, "new-tech", "Another-Long-Passw0rd")
    on = admin.post(f"/web/users/{key}/active", active="true", row_version=version(admin, key))
    assert on.status_code == 303
    assert signed_in(WebUser.sign_in(demo.app, "new-tech", "Another-Long-Passw0rd"))


def test_refusals_are_shown_with_the_reason(demo: Demo) -> None:
    admin = demo.user("admin")
    weak = admin.post("/web/users", username="weak", role="technician", password="short")
    assert weak.status_code == 422
    assert "password" in weak.text
    make_user(admin, "twice")
    again = admin.post("/web/users", username="twice", role="technician", password=PASSWORD)
    assert again.status_code == 409
    assert "already exists" in again.text
    assert admin.post("/web/users", username="x", role="emperor", password=PASSWORD).status_code == 422


def test_stale_form_and_self_lockout_are_refused(demo: Demo) -> None:
    admin = demo.user("admin")
    key = make_user(admin)
    first = version(admin, key)
    assert admin.post(f"/web/users/{key}", full_name="A", role="technician", row_version=first).status_code == 303
    stale = admin.post(f"/web/users/{key}", full_name="B", role="admin", row_version=first)
    assert stale.status_code == 412
    assert "technician" in admin.client.get(f"/web/users/{key}").text
    me = re.search(r'href="/web/users/(\d+)">demo-admin<', admin.client.get("/web/users").text)
    assert me is not None
    own = int(me.group(1))
    lockout = admin.post(f"/web/users/{own}/active", active="false", row_version=version(admin, own))
    assert lockout.status_code == 409
    assert signed_in(admin)


@pytest.mark.parametrize("role", ["technician", "reviewer", "quality-manager", "regulator"])
def test_only_the_administrator_manages_users(demo: Demo, role: str) -> None:
    admin = demo.user("admin")
    key = make_user(admin)
    user = demo.user(role)
    assert user.client.get("/web/users").status_code == 403
    assert user.client.get(f"/web/users/{key}").status_code == 403
    assert user.post("/web/users", username="sneaky", role="admin", password=PASSWORD).status_code == 403
    assert user.post(f"/web/users/{key}", full_name="x", role="admin").status_code == 403
    assert user.post(f"/web/users/{key}/active", active="false").status_code == 403
    assert user.post(f"/web/users/{key}/password", password="Hijacked-Password-1").status_code == 403
    assert signed_in(WebUser.sign_in(demo.app, "new-tech", PASSWORD))  # nothing changed
    assert "sneaky" not in admin.client.get("/web/users").text


def test_another_organisations_manager_cannot_touch_users(demo: Demo) -> None:
    admin = demo.user("admin")
    key = make_user(admin)
    outsider = other_org_user(demo, Role.QUALITY_MANAGER)
    assert outsider.client.get(f"/web/users/{key}").status_code == 403
    assert outsider.post(f"/web/users/{key}/active", active="false").status_code == 403
    assert signed_in(WebUser.sign_in(demo.app, "new-tech", PASSWORD))


def test_user_forms_need_the_csrf_token(demo: Demo) -> None:
    admin = demo.user("admin")
    key = make_user(admin)
    forged = admin.client.post(f"/web/users/{key}/active", data={"active": "false", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert signed_in(WebUser.sign_in(demo.app, "new-tech", PASSWORD))


def test_token_is_shown_once_works_and_is_revoked(demo: Demo) -> None:
    tech = demo.user("technician")
    made = tech.post("/web/tokens", name="balance PC")
    assert made.status_code == 201
    assert made.headers["cache-control"] == "no-store"
    token = re.search(r'class="token-once">([^<]+)<', made.text)
    assert token is not None
    bearer = {"Authorization": f"Bearer {token.group(1)}"}
    assert tech.client.get("/api/v1/auth/me", headers=bearer, cookies={}).status_code == 200
    listing = tech.client.get("/web/tokens")
    assert token.group(1) not in listing.text
    assert "balance PC" in listing.text
    key = re.search(r'action="/web/tokens/(\d+)/revoke"', listing.text)
    assert key is not None
    # another user cannot revoke it (not found), nor without the form's token
    other = demo.user("reviewer")
    assert other.post(f"/web/tokens/{key.group(1)}/revoke").status_code == 404
    forged = tech.client.post(f"/web/tokens/{key.group(1)}/revoke", data={"csrf_token": "x"})
    assert forged.status_code == 403
    anonymous = type(tech.client)(demo.app)
    assert anonymous.get("/api/v1/auth/me", headers=bearer).status_code == 200
    assert tech.post(f"/web/tokens/{key.group(1)}/revoke").status_code == 303
    assert anonymous.get("/api/v1/auth/me", headers=bearer).status_code == 401
    assert tech.post("/web/tokens", name="").status_code == 422
    assert tech.post("/web/tokens", name="x" * 500).status_code == 422


def test_user_screens_in_chinese(demo: Demo) -> None:
    admin = demo.user("admin")
    admin.client.cookies.set("hengqi_lang", "zh")
    page = admin.client.get("/web/users")
    assert "用户" in page.text
    assert "质量负责人" in page.text
    assert "usr." not in page.text
    assert "role." not in page.text
