"""What one running app holds: its settings, database, file store, session signer and sign-in gate (made by the
factory)."""

from __future__ import annotations

from dataclasses import dataclass

from hengqi.server import audit
from hengqi.server.anchor import anchor_for
from hengqi.server.db.engine import Database
from hengqi.server.files import FileStore
from hengqi.server.keys import session_keys
from hengqi.server.security import SessionSigner
from hengqi.server.services.signin import SignInGate
from hengqi.server.settings import Settings


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    database: Database
    files: FileStore
    signer: SessionSigner
    signin: SignInGate

    @classmethod
    def create(cls, settings: Settings) -> AppState:
        """The state of a new app; :class:`~hengqi.server.errors.UnsafeSettingsError` without a usable session key
        (none configured on a non-loopback host, or an unreadable key file)."""
        signer = SessionSigner(session_keys(settings))
        database = Database(
            settings.effective_database_url(),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            read_pool_size=settings.db_read_pool_size,
        )
        audit.attach_anchor(database, anchor_for(settings))  # MACs and checkpoints of the audit trail
        return cls(
            settings=settings,
            database=database,
            files=FileStore(settings.files_dir),
            signer=signer,
            signin=SignInGate(settings),
        )

    def close(self) -> None:
        self.signin.close()
        self.database.dispose()
