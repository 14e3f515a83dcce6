"""The audit trail's anchor outside the database: a signing key, entry MACs and signed checkpoints.

Whoever can write to the database can recompute every SHA-256 of the hash chain (:mod:`hengqi.server.audit`),
so the chain alone cannot show that its newest rows were deleted, that every row was re-hashed, or that a row was
appended by hand.  The anchor adds what the database does not hold:

* an **Ed25519 key** (RFC 8032) in a PEM file outside the database: generated on first use into the data
  directory with mode 0600, or named by ``HENGQI_AUDIT_KEY_FILE``;
* an **entry MAC**: HMAC-SHA256 (RFC 2104) of each entry's hash under a key derived from the signing key with
  HKDF-SHA256 (RFC 5869), so that a row written or re-hashed without the key is caught;
* **signed checkpoints**: JSON lines appended to ``audit-checkpoints.jsonl`` (sequence, kind, entry count, head
  hash, time, key fingerprint, hash of the previous line, Ed25519 signature), written after every N-th entry,
  on shutdown and by ``hengqi audit checkpoint``; deleting rows behind a checkpoint, or rewriting them, no longer
  matches a signed head;
* a **witness export**: the checkpoints with the public key, to keep on another machine or with another party; it
  also catches an attacker who holds the data directory (and so the key and the checkpoint file).

The design is hengqi's own; the primitives are those of the ``cryptography`` package.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hengqi.server.db.types import utcnow
from hengqi.server.errors import AuditAnchorError
from hengqi.server.settings import Settings

KEY_FILE_NAME: Final = "audit-key.pem"
CHECKPOINT_FILE_NAME: Final = "audit-checkpoints.jsonl"
WITNESS_FORMAT: Final = "hengqi-audit-witness"
GENESIS: Final = "0" * 64
#: Kinds of checkpoint lines: a periodic one, and the one written when a backup replaced the store.
KINDS: Final = ("checkpoint", "restore")

_write_lock = threading.Lock()


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 (hex, first 32 digits) of the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed line of the checkpoint file: the chain had ``entries`` entries, the last with hash ``head``."""

    seq: int
    kind: str
    entries: int
    head: str
    at: str
    key: str
    prev: str
    sig: str
    line: str  # the exact text as read (its SHA-256 is the next line's ``prev``)

    def signed_fields(self) -> dict[str, object]:
        return {
            "v": 1,
            "seq": self.seq,
            "kind": self.kind,
            "entries": self.entries,
            "head": self.head,
            "at": self.at,
            "key": self.key,
            "prev": self.prev,
        }

    def verify_signature(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(base64.b64decode(self.sig, validate=True), _canonical(self.signed_fields()))
        except (InvalidSignature, ValueError):
            return False
        return True


def parse_checkpoint(line: str, where: str) -> Checkpoint:
    """One checkpoint line; :class:`AuditAnchorError` naming ``where`` if it is not one."""
    try:
        data = json.loads(line)
        fields = {name: data[name] for name in ("seq", "kind", "entries", "head", "at", "key", "prev", "sig")}
    except (ValueError, KeyError, TypeError, RecursionError) as err:  # RecursionError: nested too deep
        raise AuditAnchorError(where, f"not a checkpoint line ({type(err).__name__})") from None
    if (
        data.get("v") != 1
        or not isinstance(fields["seq"], int)
        or not isinstance(fields["entries"], int)
        or fields["kind"] not in KINDS
        or not all(isinstance(fields[name], str) for name in ("head", "at", "key", "prev", "sig"))
    ):
        raise AuditAnchorError(where, "not a checkpoint line (fields of the wrong type)")
    return Checkpoint(**fields, line=line)


def line_digest(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


class AuditAnchor:
    """The signing key, the MAC key derived from it, and the checkpoint file of one store."""

    def __init__(self, key: Ed25519PrivateKey, key_file: Path, checkpoint_file: Path, every: int) -> None:
        self.key = key
        self.key_file = key_file
        self.checkpoint_file = checkpoint_file
        self.every = every
        self.public_key = key.public_key()
        self.fingerprint = fingerprint(self.public_key)
        raw = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        self._mac_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hengqi audit entry mac").derive(
            raw
        )

    # -- entry MACs ------------------------------------------------------------------------------------------
    def mac(self, entry_hash: str) -> str:
        """HMAC-SHA256 (hex) of an entry's hash."""
        return hmac.new(self._mac_key, entry_hash.encode("ascii"), hashlib.sha256).hexdigest()

    def mac_matches(self, entry_hash: str, mac: str | None) -> bool:
        return mac is not None and hmac.compare_digest(self.mac(entry_hash), mac)

    def sign(self, data: bytes) -> str:
        return _b64(self.key.sign(data))

    def verifies(self, data: bytes, signature: str) -> bool:
        try:
            self.public_key.verify(base64.b64decode(signature, validate=True), data)
        except (InvalidSignature, ValueError):
            return False
        return True

    def public_key_b64(self) -> str:
        return _b64(self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))

    # -- checkpoints -----------------------------------------------------------------------------------------
    def checkpoints(self) -> list[Checkpoint]:
        """Every line of the checkpoint file (none if it does not exist)."""
        return read_checkpoint_lines(self.checkpoint_file)

    def write_checkpoint(self, entries: int, head: str, *, kind: str = "checkpoint") -> Checkpoint | None:
        """Append a signed checkpoint (fsync'd); ``None`` if the last one already covers ``entries``."""
        self.checkpoint_file.parent.mkdir(parents=True, exist_ok=True)
        with _write_lock, open(self.checkpoint_file, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # other processes (CLI, workers) append to it too
            try:
                handle.seek(0)
                lines = [line for line in handle.read().splitlines() if line.strip()]
                last = parse_checkpoint(lines[-1], f"{self.checkpoint_file}:{len(lines)}") if lines else None
                if kind == "checkpoint" and last is not None and last.entries >= entries:
                    return None
                fields: dict[str, Any] = {
                    "v": 1,
                    "seq": (last.seq + 1) if last is not None else 1,
                    "kind": kind,
                    "entries": entries,
                    "head": head,
                    "at": utcnow().isoformat(timespec="microseconds"),
                    "key": self.fingerprint,
                    "prev": line_digest(last.line) if last is not None else GENESIS,
                }
                fields["sig"] = self.sign(_canonical(fields))
                line = json.dumps(fields, sort_keys=True, separators=(",", ":"))
                handle.seek(0, os.SEEK_END)
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return parse_checkpoint(line, str(self.checkpoint_file))

    def export_witness(self, target: Path) -> int:
        """Write the public key and every checkpoint to ``target`` (new file); returns the number of checkpoints."""
        checkpoints = self.checkpoints()
        header = {"format": WITNESS_FORMAT, "version": 1, "public_key": self.public_key_b64(), "key": self.fingerprint}
        text = json.dumps(header, sort_keys=True) + "\n" + "".join(cp.line + "\n" for cp in checkpoints)
        with open(target, "x", encoding="utf-8") as out:
            out.write(text)
        return len(checkpoints)


def read_checkpoint_lines(path: Path) -> list[Checkpoint]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as err:
        raise AuditAnchorError(str(path), f"cannot read the checkpoint file ({err})") from err
    return [parse_checkpoint(line, f"{path}:{number}") for number, line in _numbered(text)]


def _numbered(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line


@dataclass(frozen=True, slots=True)
class Witness:
    """A witness export: the public key it was signed with and its checkpoints."""

    public_key: Ed25519PublicKey
    key: str
    checkpoints: list[Checkpoint]


def read_witness(path: Path) -> Witness:
    """Read a file written by :meth:`AuditAnchor.export_witness`; :class:`AuditAnchorError` if it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise AuditAnchorError(str(path), f"cannot read the witness file ({err})") from err
    lines = list(_numbered(text))
    if not lines:
        raise AuditAnchorError(str(path), "empty witness file")
    try:
        header = json.loads(lines[0][1])
        raw = base64.b64decode(header["public_key"], validate=True)
        public_key = Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, KeyError, TypeError, RecursionError) as err:
        raise AuditAnchorError(str(path), f"not a witness file (header: {type(err).__name__})") from None
    if header.get("format") != WITNESS_FORMAT:
        raise AuditAnchorError(str(path), "not a witness file (format)")
    checkpoints = [parse_checkpoint(line, f"{path}:{number}") for number, line in lines[1:]]
    return Witness(public_key, fingerprint(public_key), checkpoints)


def load_anchor(
    data_dir: Path,
    *,
    key_file: Path | None = None,
    checkpoint_file: Path | None = None,
    every: int = 10,
    create: bool = True,
) -> AuditAnchor | None:
    """The store's anchor; the key is generated (mode 0600) if missing and ``create``, else ``None`` if missing."""
    path = key_file if key_file is not None else data_dir / KEY_FILE_NAME
    checkpoints = checkpoint_file if checkpoint_file is not None else data_dir / CHECKPOINT_FILE_NAME
    if not path.exists():
        if not create:
            return None
        _generate(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise AuditAnchorError(str(path), f"the audit key is readable by others (mode {mode:o}); chmod 600 it")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as err:
        raise AuditAnchorError(str(path), f"not a readable PEM private key ({type(err).__name__})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditAnchorError(str(path), "the audit key must be an Ed25519 private key")
    return AuditAnchor(key, path, checkpoints, every)


def anchor_for(settings: Settings, *, create: bool = True) -> AuditAnchor | None:
    """The anchor named by ``settings`` (``audit_key_file``, ``audit_checkpoint_file``, ``audit_checkpoint_every``)."""
    return load_anchor(
        settings.data_dir,
        key_file=settings.audit_key_file,
        checkpoint_file=settings.audit_checkpoint_file,
        every=settings.audit_checkpoint_every,
        create=create,
    )


def _generate(path: Path) -> None:
    """A new key, written to a private temporary file and linked into place: never seen half-written, and of two
    processes starting at once both use the first one linked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".audit-key-")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
