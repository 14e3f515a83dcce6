"""Saved views of the web lists: save the current filter and sort, pick it again, share, rename, make default,
delete; attacked as another user, another organisation, a role that may not share, with a tampered stored view
and a forged form (``hengqi.server.web.saved_views``)."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from tests.web.conftest import Demo, WebUser
from tests.web.test_manage import other_org_user

from hengqi.server.admin import verify_audit
from hengqi.server.db.models import AuditEntry, Certificate, Instrument, User
from hengqi.server.db.saved_views import SavedView


def save(user: WebUser, list_key: str, name: str, query: str, **extra: str) -> object:
    return user.post("/web/views", list=list_key, name=name, query=query, **extra)


def view_id(answer: object) -> int:
    location = answer.headers["location"]  # type: ignore[attr-defined]
    return int(parse_qs(urlsplit(location).query)["view"][0])


def test_save_pick_and_the_list_applies_it(demo: Demo) -> None:
    tech = demo.user("technician")
    answer = save(tech, "registry/instruments", "Class III by max", "q=&sort=-max_kg&accuracy_class=III&export=csv")
    assert answer.status_code == 303, answer.text  # type: ignore[attr-defined]
    key = view_id(answer)
    location = answer.headers["location"]  # type: ignore[attr-defined]
    assert parse_qs(urlsplit(location).query) == {"sort": ["-max_kg"], "accuracy_class": ["III"], "view": [str(key)]}
    page = tech.client.get("/web/registry/instruments")
    assert 'data-testid="saved-view"' in page.text
    assert "Class III by max" in page.text
    opened = tech.client.get(f"/web/views/{key}", follow_redirects=False)
    assert opened.status_code == 303
    shown = tech.client.get(opened.headers["location"])
    assert shown.status_code == 200
    assert '<option value="III" selected>' in shown.text
    assert '<option value="-max_kg" selected>' in shown.text
    # the same name again is refused with the reason; the first view stays
    again = save(tech, "registry/instruments", "class iii BY max", "sort=id")
    assert again.status_code == 422
    assert "already have a view" in again.text


def test_audit_entries_for_create_share_rename_default_delete(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    key = view_id(save(qm, "registry/sites", "By name", "sort=name"))
    assert qm.post(f"/web/views/{key}/share", shared="1").status_code == 303
    assert qm.post(f"/web/views/{key}/rename", name="Sites A-Z").status_code == 303
    assert qm.post(f"/web/views/{key}/default", default="1").status_code == 303
    # the default view opens when the list is opened without a query
    first = qm.client.get("/web/registry/sites", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == f"/web/views/{key}"
    assert qm.post(f"/web/views/{key}/delete").status_code == 303
    assert qm.client.get("/web/registry/sites", follow_redirects=False).status_code == 200
    with demo.app.state.hengqi.database.read_session() as session:
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "saved_views", AuditEntry.entity_id == str(key))
                .order_by(AuditEntry.id)
            )
        )
    assert actions == ["create", "share", "rename", "default", "remove"]
    verify_audit(demo.app.state.hengqi.database)  # raises where the chain or a bound row is broken


def test_a_technician_may_not_share(demo: Demo) -> None:
    tech = demo.user("technician")
    refused = save(tech, "registry/instruments", "Mine for all", "sort=serial", shared="1")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    key = view_id(save(tech, "registry/instruments", "Mine", "sort=serial"))
    assert tech.post(f"/web/views/{key}/share", shared="1").status_code == 403
    page = tech.client.get("/web/registry/instruments")
    assert 'data-testid="view-shared"' not in page.text
    reviewer = demo.user("reviewer")
    assert "Mine" not in reviewer.client.get("/web/registry/instruments").text  # not shared: not seen
    assert reviewer.client.get(f"/web/views/{key}", follow_redirects=False).status_code == 404


def test_shared_views_reach_the_organisation_only(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    key = view_id(save(qm, "registry/instruments", "Out of service", "status=out-of-service", shared="1"))
    tech = demo.user("technician")
    assert "Out of service" in tech.client.get("/web/registry/instruments").text
    assert tech.client.get(f"/web/views/{key}", follow_redirects=False).status_code == 303
    # a colleague may use a shared view but not rename, unshare or delete it
    for action, data in (("rename", {"name": "Mine now"}), ("share", {"shared": "0"}), ("delete", {})):
        assert tech.post(f"/web/views/{key}/{action}", **data).status_code == 404
    outsider = other_org_user(demo)
    assert "Out of service" not in outsider.client.get("/web/registry/instruments").text
    assert outsider.client.get(f"/web/views/{key}", follow_redirects=False).status_code == 404
    assert outsider.post(f"/web/views/{key}/delete").status_code == 404
    assert "Out of service" not in outsider.client.get("/web/views").text


def test_a_view_never_widens_access(demo: Demo) -> None:
    """A technician may not read the audit trail: a view of it (saved by a quality manager and shared) leads the
    technician to the list, which refuses them as before."""
    qm = demo.user("quality-manager")
    key = view_id(save(qm, "audit", "Deletions", "action=delete", shared="1"))
    tech = demo.user("technician")
    opened = tech.client.get(f"/web/views/{key}", follow_redirects=False)
    assert opened.status_code == 303
    assert tech.client.get(opened.headers["location"]).status_code == 403


def test_tampered_or_stale_views_are_not_applied(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    bad_sort = save(qm, "registry/instruments", "Secret", "sort=password_hash")
    assert bad_sort.status_code == 422
    assert "cannot sort on" in bad_sort.text
    unknown = save(qm, "registry/instruments", "Unknown", "organisation_id=2")
    assert unknown.status_code == 422
    assert "unknown parameter" in unknown.text
    assert save(qm, "no/such/list", "X", "").status_code == 422  # type: ignore[attr-defined]
    assert save(qm, "registry/instruments", "   ", "").status_code == 422  # type: ignore[attr-defined]
    key = view_id(save(qm, "registry/instruments", "Good", "sort=serial"))
    database = demo.app.state.hengqi.database
    for stored, reason in (
        (json.dumps({"sort": "password_hash"}), "cannot sort on"),
        (json.dumps({"no_such_column": "1"}), "unknown parameter"),
        ("{not json", "not readable"),
        (json.dumps(["sort", "id"]), "not readable"),
    ):
        with database.write_session() as session:
            view = session.get(SavedView, key)
            assert view is not None
            view.query = stored
            session.commit()
        opened = qm.client.get(f"/web/views/{key}", follow_redirects=False)
        assert opened.status_code == 303
        assert opened.headers["location"] == "/web/registry/instruments?view_problem=1"
        page = qm.client.get(opened.headers["location"])
        assert page.status_code == 200
        problem = re.search(r'data-testid="view-problem">(.*?)</p>', page.text, re.S)
        assert problem is not None, page.text
        assert reason in problem.group(1)
        assert 'data-testid="registry-table"' in page.text  # the list itself, unfiltered


def test_oversized_views_are_refused_and_nothing_is_stored(demo: Demo) -> None:
    """A name over 80 characters, a query over the form's 2 000 characters, and a 51st view on one list: each
    refused with 422 and nothing stored."""
    qm = demo.user("quality-manager")
    database = demo.app.state.hengqi.database

    def stored() -> int:
        with database.read_session() as session:
            return len(session.query(SavedView).all())

    before = stored()
    long_name = save(qm, "registry/instruments", "n" * 81, "sort=serial")
    assert long_name.status_code == 422  # type: ignore[attr-defined]
    long_query = save(qm, "registry/instruments", "Long", "q=" + "x" * 3000)
    assert long_query.status_code == 422  # type: ignore[attr-defined]
    assert stored() == before
    for number in range(50):
        assert save(qm, "registry/instruments", f"View {number}", "sort=serial").status_code == 303  # type: ignore[attr-defined]
    one_more = save(qm, "registry/instruments", "View 50", "sort=serial")
    assert one_more.status_code == 422  # type: ignore[attr-defined]
    assert "at most 50" in one_more.text  # type: ignore[attr-defined]
    assert stored() == before + 50


def test_forms_need_csrf_and_a_session(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    answer = qm.client.post("/web/views", data={"list": "audit", "name": "x", "query": ""}, follow_redirects=False)
    assert answer.status_code == 403
    anonymous = demo.user("technician").client
    anonymous.cookies.clear()
    assert anonymous.get("/web/views", follow_redirects=False).status_code == 303


def test_screens_in_chinese(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    qm.client.cookies.set("hengqi_lang", "zh")
    view_id(save(qm, "registry/instruments", "三级秤", "accuracy_class=III"))
    page = qm.client.get("/web/registry/instruments")
    assert "已保存的视图" in page.text
    assert "三级秤" in page.text
    assert "已保存的视图" in qm.client.get("/web/views").text


# --- the due list and the certificates list (list keys "due" and "certificates") ---


def certificates(demo: Demo) -> list[int]:
    """Three certificates of the demo organisation (numbers, kinds and statuses differ), written to the store as
    the workflow would leave them; their ids."""
    database = demo.app.state.hengqi.database
    made = []
    with database.write_session() as session:
        user = session.scalars(select(User).where(User.username == "demo-quality-manager")).one()
        instrument = session.scalars(
            select(Instrument).where(Instrument.organisation_id == user.organisation_id).order_by(Instrument.id)
        ).first()
        assert instrument is not None
        for number, kind, status in (
            ("VC-2026-001", "verification", "issued"),
            ("CC-2026-002", "calibration", "draft"),
            ("VC-2026-003", "verification", "withdrawn"),
        ):
            row = Certificate(
                organisation_id=user.organisation_id,
                number=number,
                kind=kind,
                instrument_id=instrument.id,
                status=status,
                created_by_id=user.id,
            )
            session.add(row)
            session.flush()
            made.append(row.id)
        session.commit()
    return made


def numbers(page: str) -> list[str]:
    return re.findall(r"<td>((?:VC|CC)-2026-\d{3})</td>", page)


def test_certificates_list_filters_sorts_exports_and_keeps_a_view(demo: Demo) -> None:
    certificates(demo)
    qm = demo.user("quality-manager")
    page = qm.client.get("/web/certificates?sort=number")
    assert numbers(page.text) == ["CC-2026-002", "VC-2026-001", "VC-2026-003"]
    page = qm.client.get("/web/certificates?sort=-number&kind=verification")
    assert numbers(page.text) == ["VC-2026-003", "VC-2026-001"]
    # the export carries the filter and sort of the page
    assert 'href="/web/certificates?kind=verification&amp;sort=-number&amp;export=csv"' in page.text
    csv = qm.client.get("/web/certificates?kind=verification&sort=-number&export=csv")
    assert csv.status_code == 200
    assert [line.split(",")[1] for line in csv.text.splitlines()[1:]] == ["VC-2026-003", "VC-2026-001"]
    xlsx = qm.client.get("/web/certificates?q=cc-&export=xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content.startswith(b"PK")
    assert qm.client.get("/web/certificates?sort=file_sha256").status_code == 422
    assert qm.client.get("/web/certificates?status=lost").status_code == 422
    # save, pick, use
    answer = save(qm, "certificates", "Issued verifications", "kind=verification&status=issued&sort=-number")
    assert answer.status_code == 303, answer.text  # type: ignore[attr-defined]
    key = view_id(answer)
    assert "Issued verifications" in qm.client.get("/web/certificates").text
    opened = qm.client.get(f"/web/views/{key}", follow_redirects=False)
    assert opened.status_code == 303
    assert parse_qs(urlsplit(opened.headers["location"]).query) == {
        "kind": ["verification"],
        "status": ["issued"],
        "sort": ["-number"],
        "view": [str(key)],
    }
    shown = qm.client.get(opened.headers["location"])
    assert numbers(shown.text) == ["VC-2026-001"]
    assert "Issued verifications" in qm.client.get("/web/views").text
    # refused on save with the parameter named
    for query, reason in (
        ("sort=created_by_id", "cannot sort on"),
        ("organisation_id=2", "unknown parameter"),
        ("status=lost", "not one of"),
        ("instrument_id=abc", "not a record number"),
    ):
        refused = save(qm, "certificates", f"Bad {query}", query)
        assert refused.status_code == 422, query  # type: ignore[attr-defined]
        assert reason in refused.text  # type: ignore[attr-defined]


def test_due_list_filters_sorts_exports_and_keeps_a_view(demo: Demo) -> None:
    from tests.web.test_reminders import fleet

    tech, north, _south = fleet(demo)
    page = tech.client.get("/web/due?days=30&sort=-name")
    served = re.findall(r"REM-[NS]\d", page.text)
    assert served == ["REM-S1", "REM-N2", "REM-N1"]
    overdue = tech.client.get("/web/due?days=30&status=overdue&entity=instrument")
    assert re.findall(r"REM-[NS]\d", overdue.text) == ["REM-N1"]
    assert 'href="/web/due?days=30&amp;entity=instrument&amp;status=overdue&amp;export=xlsx"' in overdue.text
    csv = tech.client.get(f"/web/due?days=30&site_id={north}&sort=-due_date&export=csv")
    assert csv.status_code == 200
    assert re.findall(r"REM-[NS]\d", csv.text) == ["REM-N2", "REM-N1"]
    assert tech.client.get("/web/due?days=30&sort=organisation_id").status_code == 422
    assert tech.client.get("/web/due?days=-3").status_code == 422
    key = view_id(save(tech, "due", "North overdue", f"days=30&site_id={north}&status=overdue&export=csv"))
    assert "North overdue" in tech.client.get("/web/due").text
    opened = tech.client.get(f"/web/views/{key}", follow_redirects=False)
    assert parse_qs(urlsplit(opened.headers["location"]).query) == {
        "days": ["30"],
        "site_id": [str(north)],
        "status": ["overdue"],
        "view": [str(key)],
    }
    assert re.findall(r"REM-[NS]\d", tech.client.get(opened.headers["location"]).text) == ["REM-N1"]
    # default view: the bare list opens it
    assert tech.post(f"/web/views/{key}/default", default="1").status_code == 303
    first = tech.client.get("/web/due", follow_redirects=False)
    assert first.headers["location"] == f"/web/views/{key}"
    for query, reason in (
        ("sort=password", "cannot sort on"),
        ("days=9999", "0 to 3650"),
        ("entity=user", "not one of"),
    ):
        refused = save(tech, "due", f"Bad {query}", query)
        assert refused.status_code == 422, query  # type: ignore[attr-defined]
        assert reason in refused.text  # type: ignore[attr-defined]


def test_tampered_due_and_certificate_views_are_not_applied(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    database = demo.app.state.hengqi.database
    for list_key, path, good, stored, reason, table in (
        ("due", "/web/due", "days=60", {"sort": "organisation_id"}, "cannot sort on", "due-filters"),
        ("due", "/web/due", "days=61", {"days": "1e9"}, "0 to 3650", "due-filters"),
        ("certificates", "/web/certificates", "sort=number", {"status": "secret"}, "not one of", "certificate-filters"),
        (
            "certificates",
            "/web/certificates",
            "sort=kind",
            {"organisation_id": "2"},
            "unknown parameter",
            "certificate-filters",
        ),
    ):
        key = view_id(save(qm, list_key, f"Good {good}", good))
        with database.write_session() as session:
            view = session.get(SavedView, key)
            assert view is not None
            view.query = json.dumps(stored)
            session.commit()
        opened = qm.client.get(f"/web/views/{key}", follow_redirects=False)
        assert opened.status_code == 303
        assert opened.headers["location"] == f"{path}?view_problem=1"
        page = qm.client.get(opened.headers["location"])
        assert page.status_code == 200
        problem = re.search(r'data-testid="view-problem">(.*?)</p>', page.text, re.S)
        assert problem is not None, page.text
        assert reason in problem.group(1)
        assert table in page.text


def test_due_and_certificate_views_stay_in_their_organisation(demo: Demo) -> None:
    from tests.web.test_reminders import fleet

    certificates(demo)
    _tech, north, _south = fleet(demo)
    qm = demo.user("quality-manager")
    due_key = view_id(save(qm, "due", "North", f"days=30&site_id={north}", shared="1"))
    cert_key = view_id(save(qm, "certificates", "Drafts", "status=draft", shared="1"))
    reviewer = demo.user("reviewer")  # a colleague uses the shared views
    assert "North" in reviewer.client.get("/web/due").text
    opened = reviewer.client.get(f"/web/views/{cert_key}", follow_redirects=False)
    assert numbers(reviewer.client.get(opened.headers["location"]).text) == ["CC-2026-002"]
    outsider = other_org_user(demo)
    for key in (due_key, cert_key):
        assert outsider.client.get(f"/web/views/{key}", follow_redirects=False).status_code == 404
        assert outsider.post(f"/web/views/{key}/delete").status_code == 404
    assert "Drafts" not in outsider.client.get("/web/certificates").text
    assert "North" not in outsider.client.get("/web/due").text
    # the view's parameters typed by hand do not reach the other organisation's records either
    assert numbers(outsider.client.get("/web/certificates?status=draft").text) == []
    assert outsider.client.get(f"/web/due?days=30&site_id={north}").status_code == 404
    csv = outsider.client.get("/web/certificates?export=csv")
    assert "VC-2026" not in csv.text
    assert "CC-2026" not in csv.text
    # the outsider's own view of the same name is theirs alone
    mine = view_id(save(outsider, "certificates", "Drafts", "status=draft"))
    assert qm.client.get(f"/web/views/{mine}", follow_redirects=False).status_code == 404
