"""Due-date reminders: counts per site, the user's own subscription (audited), the header's notification, and
e-mail digests sent to a real SMTP server (aiosmtpd on an ephemeral loopback port) by ``hengqi reminders send``:
once a day, only what the subscriber may see, nothing without an SMTP server.  Attacked: another organisation's
site, a bad address, no CSRF token."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from datetime import date, timedelta
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.web.conftest import Demo, WebUser, free_port
from tests.web.test_manage import INSTRUMENT, created_id, other_org_user

from hengqi.cli.app import cli
from hengqi.server.permissions import Role
from hengqi.server.services.reminders import ReminderError, send_due


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def site(user: WebUser, name: str) -> int:
    return created_id(user.post("/web/registry/sites", name=name), "sites")


def fleet(demo: Demo) -> tuple[WebUser, int, int]:
    tech = demo.user("technician")
    north, south = site(tech, "North plant"), site(tech, "South plant")
    late = (date.today() - timedelta(days=3)).isoformat()
    soon = (date.today() + timedelta(days=5)).isoformat()
    for serial, where, due in (("REM-N1", north, late), ("REM-N2", north, soon), ("REM-S1", south, soon)):
        created_id(
            tech.post(
                "/web/registry/instruments",
                **{**INSTRUMENT, "serial": serial, "site_id": where, "verification_due": due},
            ),
            "instruments",
        )
    return tech, north, south


def test_per_site_counts_subscription_and_notification(demo: Demo) -> None:
    tech, north, south = fleet(demo)
    page = tech.client.get("/web/reminders")
    assert page.status_code == 200
    per_site = page.text.split('data-testid="per-site"', 1)[1].split("</table>", 1)[0]
    assert f'site_id={north}">North plant</a></td>\n    <td><span class="badge bad">1</span></td><td>1</td>' in per_site
    assert f'site_id={south}">South plant</a></td>\n    <td>0</td><td>1</td>' in per_site
    assert 'data-testid="no-smtp"' in page.text  # the demo has no mail server: nothing is sent
    north_due = tech.client.get(f"/web/due?days=30&site_id={north}")
    assert "REM-N1" in north_due.text
    assert "REM-S1" not in north_due.text
    assert 'data-testid="notice-overdue"' in tech.client.get("/web/").text
    assert tech.post("/web/reminders", email="tech@lab.example", site_id=str(north), days="30").status_code == 303
    assert 'value="tech@lab.example"' in tech.client.get("/web/reminders").text
    qm = demo.user("quality-manager")
    trail = qm.client.get("/web/audit?entity=reminder_subscriptions&action=subscribe")
    assert "tech@lab.example" in trail.text
    zh = tech.client.get("/web/reminders", cookies={"hengqi_lang": "zh"})
    assert "到期提醒邮件" in zh.text
    assert "rem." not in zh.text


def test_refusals(demo: Demo) -> None:
    tech, north, _ = fleet(demo)
    outsider = other_org_user(demo, Role.TECHNICIAN)
    answer = outsider.post("/web/reminders", email="o@x.example", site_id=str(north), days="30")
    assert answer.status_code == 422  # another organisation's site
    assert "no such site" in answer.text
    assert "North plant" not in outsider.client.get("/web/reminders").text
    assert outsider.client.get(f"/web/due?site_id={north}").status_code == 404
    for typed in ({"email": "not an address"}, {"email": "a@b.c\r\nBcc: x@y.z"}, {"days": "999"}, {"days": "x"}):
        values = {"email": "t@lab.example", "site_id": "", "days": "30", **typed}
        assert tech.post("/web/reminders", **values).status_code == 422, typed
    forged = tech.client.post("/web/reminders", data={"email": "t@lab.example", "days": "30", "csrf_token": "x"})
    assert forged.status_code == 403
    anonymous = type(tech.client)(demo.app)
    assert anonymous.get("/web/reminders", follow_redirects=False).status_code == 303  # to the sign-in page
    posted = anonymous.post("/web/reminders", data={"email": "a@b.example", "days": "1"}, follow_redirects=False)
    assert posted.status_code == 303
    assert "/web/login" in posted.headers["location"]


def test_digests_are_sent_once_a_day_over_smtp(demo: Demo, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    tech, north, _ = fleet(demo)
    assert tech.post("/web/reminders", email="tech@lab.example", site_id=str(north), days="30").status_code == 303
    qm = demo.user("quality-manager")
    assert qm.post("/web/reminders", email="qm@lab.example", site_id="", days="1").status_code == 303
    outsider = other_org_user(demo, Role.TECHNICIAN)
    assert outsider.post("/web/reminders", email="other@x.example", site_id="", days="30").status_code == 303
    state = demo.app.state.hengqi
    with pytest.raises(ReminderError, match="no SMTP server"):
        send_due(state.database, state.settings)
    settings = replace_settings(state.settings, smtp_host="127.0.0.1", smtp_port=port, smtp_from="lab@lab.example")
    outcome = send_due(state.database, settings)
    assert (outcome.sent, outcome.empty) == (2, 1)  # the other organisation has nothing due
    to = {m["To"]: m for m in inbox.messages}
    assert set(to) == {"tech@lab.example", "qm@lab.example"}
    tech_mail = to["tech@lab.example"].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "REM-N1" in tech_mail
    assert "REM-N2" in tech_mail
    assert "REM-S1" not in tech_mail  # another site
    assert "OVERDUE" in tech_mail
    assert "已逾期" in tech_mail
    qm_mail = to["qm@lab.example"].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "REM-N1" in qm_mail  # overdue, every site
    assert "REM-S1" not in qm_mail  # 5 days ahead is beyond the 1-day window
    again = send_due(state.database, settings)
    assert (again.sent, again.already) == (0, 2)
    assert len(inbox.messages) == 2
    # the command line, with the same settings from the environment
    code = cli(["reminders", "send", "--data-dir", str(demo.data_dir), "--force"])
    assert code == 2  # no SMTP configured in the environment: refused, nothing sent
    assert len(inbox.messages) == 2


def test_the_command_sends_with_smtp_configured(
    demo: Demo, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp
    tech, _, _ = fleet(demo)
    assert tech.post("/web/reminders", email="tech@lab.example", site_id="", days="30").status_code == 303
    monkeypatch.setenv("HENGQI_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HENGQI_SMTP_PORT", str(port))
    assert cli(["reminders", "send", "--data-dir", str(demo.data_dir)]) == 0
    assert [m["To"] for m in inbox.messages] == ["tech@lab.example"]
    assert cli(["reminders", "send", "--data-dir", str(demo.data_dir), "--date", "tomorrow"]) == 2


def replace_settings(settings: Any, **changes: Any) -> Any:
    return settings.model_copy(update=changes)


def test_the_digest_reads_in_chinese_with_every_text_from_the_catalogue(demo: Demo, smtp: tuple[Inbox, int]) -> None:
    """A user has no stored language, so the digest is bilingual: every line it writes has its Chinese from the
    catalogue (no lookup miss), subject included; the English stays beside it."""
    from email.header import decode_header, make_header

    from hengqi.locale import record_misses

    inbox, port = smtp
    fleet(demo)
    qm = demo.user("quality-manager")
    assert qm.post("/web/reminders", email="qm@lab.example", site_id="", days="30").status_code == 303
    state = demo.app.state.hengqi
    settings = replace_settings(state.settings, smtp_host="127.0.0.1", smtp_port=port, smtp_from="lab@lab.example")
    with record_misses() as misses:
        assert send_due(state.database, settings).sent == 1
    assert misses == set()
    (mail,) = inbox.messages
    subject = str(make_header(decode_header(mail["Subject"])))
    assert re.fullmatch(r"hengqi: (\d+) overdue, (\d+) due within 30 days / \1 项逾期，\2 项 30 天内到期", subject)
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "全部地点" in body
    assert "天内到期或已逾期的项目（全部地点）：" in body
    assert "Due within 30 days or overdue on" in body
    assert "OVERDUE / 已逾期  verification / " in body
    assert "hengqi due-date reminder / hengqi 到期提醒" in body
    assert "/ 全部地点" not in body  # each language in its own line, not the old mixed one
