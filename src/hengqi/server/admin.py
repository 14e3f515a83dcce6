"""Operations of the command line on the store, without the web app: migrate, first admin, audit check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from hengqi.server import audit
from hengqi.server.anchor import Checkpoint, anchor_for, read_witness
from hengqi.server.db.engine import Database
from hengqi.server.db.migrate import current_revision, head_revision, upgrade
from hengqi.server.db.models import AuditEntry, Base, Organisation, User
from hengqi.server.errors import AuditAnchorError, ConflictError
from hengqi.server.permissions import Role
from hengqi.server.schemas.accounts import UserCreate
from hengqi.server.schemas.registry import OrganisationCreate
from hengqi.server.services import accounts
from hengqi.server.settings import Settings
from hengqi.server.trail import TrailReport, verify_trail


def open_database(settings: Settings, *, migrate: bool = False, make_key: bool = True) -> Database:
    """The store named by ``settings`` (its folder made); migrated to the head revision if ``migrate``.

    Its audit anchor is attached (the key generated if missing and ``make_key``).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.effective_database_url())
    audit.attach_anchor(database, anchor_for(settings, create=make_key))
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


def verify_audit(database: Database, *, witness: Path | None = None) -> TrailReport:
    """Check the audit trail (chain, MACs, checkpoints, ``witness``, bound rows; see :mod:`hengqi.server.trail`).

    Raises :class:`~hengqi.server.errors.AuditChainError` naming what failed.
    """
    seen = read_witness(witness) if witness is not None else None
    with database.read_session() as session:
        return verify_trail(session, audit.database_anchor(database), witness=seen)


@dataclass(frozen=True, slots=True)
class CheckpointOutcome:
    written: Checkpoint | None
    exported: int | None


def checkpoint_audit(database: Database, *, export: Path | None = None) -> CheckpointOutcome:
    """Sign the audit trail's head now; with ``export``, write the witness file (public key, every checkpoint)."""
    anchor = audit.database_anchor(database)
    if anchor is None:  # pragma: no cover - open_database always attaches one
        raise AuditAnchorError("audit key", "no audit key")
    written = audit.checkpoint(database, anchor)
    exported = anchor.export_witness(export) if export is not None else None
    return CheckpointOutcome(written, exported)


def bind_records(database: Database) -> int:
    """Bind every record row whose latest audit entry carries no row digest (entries from before revision 0113).

    Each such row gets a ``bind`` entry recording its digest as it stands, so that a later direct edit is caught.
    The trail is verified first: nothing is bound on a broken trail (:class:`AuditChainError`, naming what).
    Returns how many rows were bound.
    """
    verify_audit(database)
    bound = 0
    with database.write_session() as session:
        latest: dict[tuple[str, str], str | None] = {}
        for entity, entity_id, digest in session.execute(
            select(AuditEntry.entity, AuditEntry.entity_id, AuditEntry.row_sha256).order_by(AuditEntry.id)
        ):
            latest[(entity, entity_id)] = digest
        for name in audit.BOUND_TABLES:
            table = Base.metadata.tables[name]
            for row in session.execute(select(table)).mappings().all():
                key = audit.row_key(table, dict(row))
                if (name, key) in latest and latest[(name, key)] is None:
                    organisation = row.get("organisation_id")
                    audit.record(
                        session,
                        actor=accounts.SYSTEM.actor,
                        action="bind",
                        entity=name,
                        entity_id=key,
                        organisation_id=organisation if isinstance(organisation, int) else None,
                    )
                    bound += 1
        session.commit()
    return bound
