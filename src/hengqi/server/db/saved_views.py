"""Saved views of the web lists: a named filter and sort of one list, kept by a user, optionally shared with the
user's organisation.

A view holds only the list's query parameters (``query``: a JSON object of text to text); whoever opens it sees
the list as their own role and organisation allow, so a view never widens what its reader may see.  Kept in a
table of its own, scoped by organisation and user; changes are audited (entity ``saved_views``).
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hengqi.server.db.models import Base, Timestamps


class SavedView(Timestamps, Base):
    """``name`` of list ``list_key`` (e.g. ``registry/instruments``, ``audit``) kept by ``user_id``; ``shared``:
    the user's organisation sees it too; ``is_default``: opened when the user opens the list without a query."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "list_key", "name", name="uq_saved_views_user_list_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    list_key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
