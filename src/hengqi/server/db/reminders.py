"""Subscriptions to due-date reminder e-mails: who receives a digest, at which address, for which site.

Kept in a table of their own (not columns of ``users``, whose rows are bound to the audit trail by their digest:
a new column there would change every user row's digest).  Changes are audited all the same.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hengqi.server.db.models import Base, Timestamps


class ReminderSubscription(Timestamps, Base):
    """One user's digest: what falls due within ``days`` at ``site_id`` (``None``: every site of the
    organisation), sent to ``email``; ``last_sent_on``: the day of the last digest sent (one a day)."""

    __tablename__ = "reminder_subscriptions"
    __table_args__ = (UniqueConstraint("user_id", name="uq_reminder_subscriptions_user"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str] = mapped_column(String(254))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), default=None)
    days: Mapped[int] = mapped_column(Integer, default=30)
    last_sent_on: Mapped[date | None] = mapped_column(Date, default=None)
