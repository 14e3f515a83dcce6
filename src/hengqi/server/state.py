"""What one running app holds: its settings, database, file store and session signer (made by the factory)."""

from __future__ import annotations

from dataclasses import dataclass

from hengqi.server import audit
from hengqi.server.anchor import anchor_for
from hengqi.server.db.engine import Database
from hengqi.server.files import FileStore
from hengqi.server.security import SessionSigner
from hengqi.server.settings import Settings


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    database: Database
    files: FileStore
    signer: SessionSigner

    @classmethod
    def create(cls, settings: Settings) -> AppState:
        database = Database(settings.effective_database_url())
        audit.attach_anchor(database, anchor_for(settings))  # MACs and checkpoints of the audit trail
        return cls(
            settings=settings,
            database=database,
            files=FileStore(settings.files_dir),
            signer=SessionSigner(settings.secret_key, max_age_s=settings.session_max_age_s),
        )
