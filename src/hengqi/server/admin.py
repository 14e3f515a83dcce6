"""Operations of the command line on the store, without the web app: migrate, first admin, audit check."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from hengqi.server import audit
from hengqi.server.db.engine import Database
from hengqi.server.db.migrate import current_revision, head_revision, upgrade
from hengqi.server.db.models import Organisation, User
from hengqi.server.errors import ConflictError
from hengqi.server.permissions import Role
from hengqi.server.schemas.accounts import UserCreate
from hengqi.server.schemas.registry import OrganisationCreate
from hengqi.server.services import accounts
from hengqi.server.settings import Settings


def open_database(settings: Settings, *, migrate: bool = False) -> Database:
    """The store named by ``settings`` (its folder made); migrated to the head revision if ``migrate``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.effective_database_url())
    if migrate:
        upgrade(database.engine)
    return database


@dataclass(frozen=True, slots=True)
class Revision:
    current: str | None
    head: str


def revision(database: Database) -> Revision:
    return Revision(current_revision(database.engine), head_revision())


def create_admin(database: Database, *, username: str, password: str, organisation: str, full_name: str = "") -> User:
    """The first (or another) administrator, in organisation ``organisation`` (created if new)."""
    accounts.check_password_strength(password)
    with database.write_session() as session:
        org = session.scalar(select(Organisation).where(Organisation.name == organisation))
        if org is None:
            org = accounts.create_organisation(session, accounts.SYSTEM, OrganisationCreate(name=organisation))
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise ConflictError(f"user {username!r} already exists", code="duplicate")
        data = UserCreate(
            username=username, password=password, role=Role.ADMIN, full_name=full_name, organisation_id=org.id
        )
        user = accounts.create_user(session, accounts.SYSTEM, data)
        session.commit()
        return user


def verify_audit(database: Database) -> audit.ChainReport:
    """Check the audit chain; raises :class:`~hengqi.server.errors.AuditChainError` naming the first bad row."""
    with database.read_session() as session:
        return audit.verify_chain(session)
