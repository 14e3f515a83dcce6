"""The content-addressed file store: each file lives at ``files/<aa>/<sha256>`` under the data directory.

Writing is atomic (temporary file, fsync, rename) and idempotent; reading checks the hash again, so a file
altered on disk is detected, never served.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from hengqi.server.errors import ConflictError


class FileStore:
    """Files named by their SHA-256 in ``root``.

    >>> import tempfile; store = FileStore(Path(tempfile.mkdtemp()))
    >>> digest = store.put(b"hello")
    >>> digest[:12], store.get(digest)
    ('2cf24dba5fb0', b'hello')
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        """Store ``content``; returns its SHA-256 (hex)."""
        digest = hashlib.sha256(content).hexdigest()
        target = self.path(digest)
        if target.exists() and self._digest_of(target) == digest:
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return digest

    def get(self, sha256: str) -> bytes:
        """The content stored under ``sha256``; :class:`ConflictError` if missing or altered."""
        target = self.path(sha256)
        try:
            content = target.read_bytes()
        except FileNotFoundError as err:
            raise ConflictError(f"stored file {sha256} is missing", code="file_missing") from err
        if hashlib.sha256(content).hexdigest() != sha256:
            raise ConflictError(f"stored file {sha256} does not match its hash", code="file_corrupt")
        return content

    @staticmethod
    def _digest_of(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()
