"""Due-date reminders: what falls due (or is overdue) per site and per user, the counts shown in the interface,
and e-mail digests sent over SMTP to the users who subscribed.

Every list is :func:`hengqi.server.services.registry.overdue` (the dashboard's and the API's one definition of
"due", :func:`hengqi.server.services.due.due_status`), seen with the subscriber's own role and organisation, so a
digest never names anything its reader could not open in the interface.  A subscription names an address, a window
of days and optionally one site (then only that site's instruments are listed; weights and weight sets belong to no
site and are listed only in digests for every site).

Sending happens only when an SMTP server is configured (``smtp_host``; the demo has none, so it sends nothing), at
most once a day per subscription (``last_sent_on``), and an empty digest is not sent.  ``hengqi reminders send``
(or any scheduler calling :func:`send_due`) does it.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hengqi.errors import HengqiError, InputError
from hengqi.locale import N_, NP_, Message, translate_message
from hengqi.server import audit
from hengqi.server.db.engine import Database
from hengqi.server.db.models import Instrument, Site, User, Weight, WeightSet
from hengqi.server.db.reminders import ReminderSubscription
from hengqi.server.permissions import Principal
from hengqi.server.services import accounts, registry
from hengqi.server.services.base import scoped_select
from hengqi.server.settings import Settings

#: an address as a person types it: one ``@``, no spaces or angle brackets (RFC 5321 allows more; we need less)
_BAD_IN_ADDRESS = set(" \t\r\n<>,;\"'()[]\\")


class ReminderError(HengqiError):
    """Reminder e-mails could not be sent (no SMTP server configured, or the server refused)."""

    code = "reminders"


def check_address(text: str) -> str:
    """``text`` as an e-mail address, or :class:`InputError`.

    >>> check_address(" qm@lab.example ")
    'qm@lab.example'
    """
    text = text.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or len(text) > 254 or any(c in _BAD_IN_ADDRESS for c in text):
        raise InputError("email", "not an e-mail address (name@domain)")
    return text


@dataclass(frozen=True, slots=True)
class SiteCounts:
    """Overdue (or due today) and due-soon counts of one site (``site_id`` ``None``: no site, weights included)."""

    site_id: int | None
    site: str
    overdue: int
    soon: int


def _sites_of(session: Session, items: Sequence[dict[str, Any]]) -> dict[int, int | None]:
    ids = [i["id"] for i in items if i["entity"] == "instrument"]
    found: dict[int, int | None] = {}
    for start in range(0, len(ids), 500):
        for key, site in session.execute(
            select(Instrument.id, Instrument.site_id).where(Instrument.id.in_(ids[start : start + 500]))
        ):
            found[key] = site
    return found


def due_items(
    session: Session, principal: Principal, days: int, *, today: date, site_id: int | None = None
) -> list[dict[str, Any]]:
    """What falls due within ``days`` (or is overdue) for ``principal``, each with its ``site_id``; only one
    site's instruments with ``site_id``."""
    items = registry.overdue(session, principal, today + timedelta(days=days), today=today)
    sites = _sites_of(session, items)
    for item in items:
        item["site_id"] = sites.get(item["id"]) if item["entity"] == "instrument" else None
    if site_id is not None:
        items = [i for i in items if i["entity"] == "instrument" and i["site_id"] == site_id]
    return items


def by_site(session: Session, principal: Principal, items: Sequence[dict[str, Any]]) -> list[SiteCounts]:
    """Counts of ``items`` (from :func:`due_items`) per site, sites by name, "no site" last."""
    names = {s.id: s.name for s in session.scalars(scoped_select(principal, Site))}
    counts: dict[int | None, list[int]] = {}
    for item in items:
        pair = counts.setdefault(item["site_id"], [0, 0])
        pair[0 if item["status"] in ("overdue", "due") else 1] += 1
    rows = [SiteCounts(k, names.get(k, "") if k is not None else "", v[0], v[1]) for k, v in counts.items()]
    return sorted(rows, key=lambda r: (r.site_id is None, r.site.casefold(), r.site_id or 0))


def notification_counts(session: Session, principal: Principal, days: int, *, today: date) -> tuple[int, int]:
    """(overdue or due today, due within ``days``) over instruments, weight sets and weights: the in-app
    notification, counted in SQL (one query per table) so that every page can show it."""
    horizon = today + timedelta(days=days)
    late = soon = 0
    for model, columns in (
        (Instrument, (Instrument.verification_due, Instrument.calibration_due)),
        (WeightSet, (WeightSet.due_date,)),
        (Weight, (Weight.due_date,)),
    ):
        for column in columns:
            base: Any = scoped_select(principal, model).where(column.is_not(None))
            late += session.scalar(select(func.count()).select_from(base.where(column <= today).subquery())) or 0
            soon += (
                session.scalar(
                    select(func.count()).select_from(base.where(column > today, column <= horizon).subquery())
                )
                or 0
            )
    return late, soon


# -- subscriptions ---------------------------------------------------------------------------------------------
def subscription_of(session: Session, principal: Principal) -> ReminderSubscription | None:
    return session.scalar(select(ReminderSubscription).where(ReminderSubscription.user_id == principal.user_id))


def subscribe(session: Session, principal: Principal, email: str, site_id: int | None, days: int) -> None:
    """Set the signed-in user's own subscription (audited); a site must be one of the user's organisation."""
    address = check_address(email)
    if not 0 <= days <= 365:
        raise InputError("days", "a whole number of days from 0 to 365")
    if site_id is not None:
        site = session.get(Site, site_id)
        if site is None or site.deleted_at is not None or site.organisation_id != principal.organisation_id:
            raise InputError("site_id", "no such site in your organisation")
    found = subscription_of(session, principal)
    old = None if found is None else {"email": found.email, "site_id": found.site_id, "days": found.days}
    if found is None:
        found = ReminderSubscription(organisation_id=principal.organisation_id, user_id=principal.user_id, email="")
        session.add(found)
    found.email, found.site_id, found.days = address, site_id, days
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="subscribe",
        entity="reminder_subscriptions",
        entity_id=found.id,
        organisation_id=principal.organisation_id,
        old=old,
        new={"email": address, "site_id": site_id, "days": days},
    )


def unsubscribe(session: Session, principal: Principal) -> None:
    found = subscription_of(session, principal)
    if found is None:
        return
    audit.record(
        session,
        actor=principal.actor,
        action="unsubscribe",
        entity="reminder_subscriptions",
        entity_id=found.id,
        organisation_id=principal.organisation_id,
        old={"email": found.email, "site_id": found.site_id, "days": found.days},
    )
    session.delete(found)
    session.flush()


# -- digests ---------------------------------------------------------------------------------------------------
_STATUS: dict[str, Message] = {"overdue": N_("OVERDUE"), "due": N_("due today"), "ok": N_("due soon")}
_DUE: dict[str, Message] = {"verification": N_("verification"), "calibration": N_("calibration")}


def _both(message: Message, separator: str = " / ") -> str:
    """English, ``separator``, Chinese (from the catalogue)."""
    return f"{message.english()}{separator}{translate_message('zh', message)}"


def compose(
    settings: Settings, to: str, *, name: str, site: str, days: int, items: Sequence[dict[str, Any]], today: date
) -> EmailMessage:
    """The digest e-mail (plain text, English and Chinese, every text from the catalogue): every item with its
    due date and status.  Bilingual because a user has no stored language (the interface's language is a cookie
    of the browser, unknown to ``hengqi reminders send``)."""
    message = EmailMessage()
    late = sum(1 for i in items if i["status"] in ("overdue", "due"))
    subject = N_("{late} overdue, {soon} due within {days} days").format(
        late=str(late), soon=str(len(items) - late), days=str(days)
    )
    message["Subject"] = f"hengqi: {_both(subject)}"
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or "localhost")
    where: str | Message = site or N_("all sites")
    dear = N_("Dear {name},").format(name=name)
    heading = N_("Due within {days} days or overdue on {today} ({where}):").format(
        days=str(days), today=today.isoformat(), where=where
    )
    lines = [_both(dear, "\n"), "", _both(heading, "\n"), ""]
    for item in items:
        status = _STATUS[item["status"]]
        due = _DUE.get(item["due"]) or NP_("due item", "{kind}").format(kind=str(item["due"]))
        lines.append(f"  {item['due_date']}  {_both(status)}  {_both(due)}  {item['name']}")
    lines += ["", "-- ", _both(N_("hengqi due-date reminder"))]
    message.set_content("\n".join(lines))
    return message


@dataclass(frozen=True, slots=True)
class SendOutcome:
    sent: int
    empty: int
    already: int


def send_due(database: Database, settings: Settings, *, today: date | None = None, force: bool = False) -> SendOutcome:
    """Send every subscriber's digest for ``today`` (once a day unless ``force``); :class:`ReminderError` when no
    SMTP server is configured or it refuses (digests sent before the refusal stay marked as sent)."""
    if not settings.smtp_host:
        raise ReminderError("no SMTP server configured (set HENGQI_SMTP_HOST); nothing was sent")
    today = date.today() if today is None else today
    sent = empty = already = 0
    with database.write_session() as session:
        subscriptions = list(session.scalars(select(ReminderSubscription).order_by(ReminderSubscription.id)))
        outgoing: list[tuple[ReminderSubscription, EmailMessage]] = []
        for sub in subscriptions:
            if sub.last_sent_on == today and not force:
                already += 1
                continue
            user = session.get(User, sub.user_id)
            if user is None or not user.active:
                continue
            principal = accounts.principal_of(session, user)
            items = due_items(session, principal, sub.days, today=today, site_id=sub.site_id)
            if not items:
                empty += 1
                continue
            site = session.get(Site, sub.site_id) if sub.site_id is not None else None
            name = user.full_name or user.username
            where = site.name if site else ""
            message = compose(settings, sub.email, name=name, site=where, days=sub.days, items=items, today=today)
            outgoing.append((sub, message))
        if outgoing:
            try:
                with _connect(settings) as smtp:
                    for sub, message in outgoing:
                        smtp.send_message(message)
                        sub.last_sent_on = today
                        sent += 1
            except (OSError, smtplib.SMTPException) as err:
                session.commit()
                raise ReminderError(
                    f"the SMTP server {settings.smtp_host}:{settings.smtp_port} refused: {err}"
                ) from err
        session.commit()
    return SendOutcome(sent, empty, already)


def _connect(settings: Settings) -> smtplib.SMTP:
    assert settings.smtp_host is not None
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s)
    if settings.smtp_starttls:
        smtp.starttls(context=ssl.create_default_context())
    if settings.smtp_user:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password is not None else ""
        smtp.login(settings.smtp_user, password)
    return smtp
