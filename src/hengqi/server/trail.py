"""Verification of the whole audit trail: chain, MACs, signed checkpoints, a witness, and the bound record rows.

``hengqi audit verify`` (and ``restore``, on the archive before anything is replaced) fails, naming the row, when:

* a row was edited, deleted, inserted or reordered (the SHA-256 chain of :mod:`hengqi.server.audit`);
* a row was written or re-hashed without the audit key (its MAC; this catches a forged row appended at the end,
  every later row re-hashed after an edit, and a back-dated row);
* the newest rows, or all rows, were deleted, or the chain was rewritten, behind a signed checkpoint of the
  checkpoint file or of a witness export (:mod:`hengqi.server.anchor`);
* a record row was edited, inserted or deleted in the database directly (its content no longer has the digest
  that its latest audit entry recorded).

Entries written before revision 0113 carry no MAC and no row digest; they are checked by the chain and the
checkpoints only, and a row last changed before 0113 is reported as not yet bound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from hengqi.server import audit
from hengqi.server.anchor import GENESIS, AuditAnchor, Checkpoint, Witness, line_digest
from hengqi.server.db.models import AuditEntry, Base
from hengqi.server.errors import AuditAnchorError, AuditChainError

#: (entity, entity_id) -> (id of the latest entry naming it, its row digest or ``None`` if it has none)
Latest = dict[tuple[str, str], tuple[int, str | None]]


@dataclass(frozen=True, slots=True)
class TrailReport:
    """What :func:`verify_trail` checked."""

    entries: int
    head: str
    macs: int
    checkpoints: int
    witnessed: int
    bound_rows: int
    unbound_rows: int


class ChainWalk:
    """Checks entries one by one in id order: id sequence, link, hash, MAC; remembers heads and row digests."""

    def __init__(self, anchor: AuditAnchor | None, wanted_heads: Iterable[int] = ()) -> None:
        self.anchor = anchor
        self.prev_hash = audit.GENESIS
        self.count = 0
        self.macs = 0
        self.first_mac: int | None = None
        self.wanted = set(wanted_heads)
        self.heads: dict[int, str] = {}
        self.latest: Latest = {}

    def feed(self, entry: AuditEntry) -> None:
        expected = self.count + 1
        if entry.id != expected:
            raise AuditChainError(entry.id, f"expected row {expected} next (a row was removed or inserted)")
        if entry.prev_hash != self.prev_hash:
            raise AuditChainError(entry.id, "prev_hash does not match the previous row's hash")
        if audit.entry_hash(audit._hashed_fields(entry), self.prev_hash) != entry.hash:
            raise AuditChainError(entry.id, "hash does not match the row's contents (the row was altered)")
        if entry.mac is not None:
            if self.anchor is None:
                raise AuditAnchorError("audit key", "the trail carries MACs but no audit key was found to check them")
            if not self.anchor.mac_matches(entry.hash, entry.mac):
                raise AuditChainError(
                    entry.id, "MAC does not match: the row was written or re-hashed without the audit key"
                )
            self.macs += 1
            if self.first_mac is None:
                self.first_mac = entry.id
        elif self.first_mac is not None:
            raise AuditChainError(entry.id, f"no MAC after row {self.first_mac} had one (written without the key)")
        elif self.mac_required_from is not None and entry.id >= self.mac_required_from:
            raise AuditChainError(entry.id, "no MAC, yet the checkpoints show MACs from this row on")
        self.prev_hash, self.count = entry.hash, expected
        if entry.id in self.wanted:
            self.heads[entry.id] = entry.hash
        if entry.entity in audit.BOUND_TABLES:
            self.latest[(entry.entity, entry.entity_id)] = (entry.id, entry.row_sha256)

    #: the first row that must carry a MAC: where the first checkpoint was written (the first entry with a MAC is
    #: always checkpointed, see :func:`hengqi.server.audit.record`)
    mac_required_from: int | None = None


def check_checkpoints(
    checkpoints: list[Checkpoint],
    public_key: Ed25519PublicKey,
    key: str,
    walk: ChainWalk,
    source: str,
    *,
    rollback: bool = False,
) -> int:
    """Check signatures, links and heads of ``checkpoints`` against the walked chain; returns how many were live.

    ``rollback``: the walked chain is an older archive about to be restored; checkpoints beyond its end are
    superseded (as a ``restore`` line will record), those within it must still match.
    """
    live: list[Checkpoint] = []
    prev = GENESIS
    for index, cp in enumerate(checkpoints, start=1):
        name = f"{source} checkpoint {cp.seq} ({cp.at})"
        if cp.seq != index or cp.prev != prev:
            raise AuditChainError(0, f"{name}: out of sequence (a checkpoint line was removed or inserted)")
        if cp.key != key or not cp.verify_signature(public_key):
            raise AuditChainError(0, f"{name}: signature does not verify with the audit key {key}")
        prev = line_digest(cp.line)
        if cp.kind == "restore":  # a backup replaced the store: later history starts from the archive's head
            live = [earlier for earlier in live if earlier.entries <= cp.entries]
        live.append(cp)
    if rollback:
        live = [cp for cp in live if cp.entries <= walk.count]
    for cp in live:
        name = f"{source} checkpoint {cp.seq} ({cp.at})"
        if cp.entries > walk.count:
            raise AuditChainError(
                walk.count + 1,
                f"{name} records {cp.entries} entries, the trail has {walk.count}: its newest rows were deleted",
            )
        if cp.entries > 0 and walk.heads.get(cp.entries) != cp.head:
            raise AuditChainError(cp.entries, f"hash differs from the one signed in {name}: the trail was rewritten")
    return len(live)


def check_rows(latest: Latest, rows_of: Callable[[str], Iterable[Mapping[str, object]]]) -> tuple[int, int]:
    """Compare every row of the bound tables with its latest audit entry; returns (bound, not yet bound) counts."""
    bound = unbound = 0
    seen: set[tuple[str, str]] = set()
    for name in audit.BOUND_TABLES:
        table = Base.metadata.tables[name]
        for values in rows_of(name):
            key = (name, audit.row_key(table, values))
            seen.add(key)
            if key not in latest:
                raise AuditChainError(0, f"{name} row {key[1]} has no audit entry (inserted outside the audit trail)")
            entry_id, digest = latest[key]
            if digest is None:
                unbound += 1
            elif digest == audit.ROW_ABSENT:
                raise AuditChainError(entry_id, f"{name} row {key[1]} exists, but this audit row records it removed")
            elif digest != audit.row_digest(name, values):
                raise AuditChainError(
                    entry_id, f"{name} row {key[1]} differs from what this audit row recorded (edited outside it)"
                )
            else:
                bound += 1
    for key, (entry_id, digest) in latest.items():
        if key not in seen and digest not in (None, audit.ROW_ABSENT):
            raise AuditChainError(entry_id, f"{key[0]} row {key[1]} is missing (deleted outside the audit trail)")
    return bound, unbound


def verify_entries(
    entries: Iterable[AuditEntry],
    rows_of: Callable[[str], Iterable[Mapping[str, object]]],
    anchor: AuditAnchor | None,
    *,
    witness: Witness | None = None,
    rollback: bool = False,
) -> TrailReport:
    """Verify a trail given as entries in id order and the rows of the bound tables (store or archive)."""
    try:
        local = anchor.checkpoints() if anchor is not None else []
    except AuditAnchorError as err:  # the local file is part of the evidence: a damaged line is a broken trail
        raise AuditChainError(0, f"checkpoint file {err.path}: {err.reason}") from None
    if anchor is None and local:
        raise AuditAnchorError("audit key", "checkpoints exist but no audit key was found to check them")
    witnessed = witness.checkpoints if witness is not None else []
    walk = ChainWalk(anchor, (cp.entries for cp in [*local, *witnessed]))
    walk.mac_required_from = next((cp.entries for cp in local if cp.kind == "checkpoint"), None)
    for entry in entries:
        walk.feed(entry)
    count = 0
    if anchor is not None:
        count = check_checkpoints(local, anchor.public_key, anchor.fingerprint, walk, "local", rollback=rollback)
    if witness is not None:
        if anchor is not None and witness.key != anchor.fingerprint:
            raise AuditChainError(
                0, f"the witness was signed with key {witness.key}, the store's audit key is {anchor.fingerprint}"
            )
        check_checkpoints(witness.checkpoints, witness.public_key, witness.key, walk, "witness")
    bound, unbound = check_rows(walk.latest, rows_of)
    return TrailReport(walk.count, walk.prev_hash, walk.macs, count, len(witnessed), bound, unbound)


def verify_trail(session: Session, anchor: AuditAnchor | None, *, witness: Witness | None = None) -> TrailReport:
    """Verify the store's audit trail and bound rows (see the module's docstring); raises naming what failed."""

    def rows_of(name: str) -> Iterable[Mapping[str, object]]:
        table = Base.metadata.tables[name]
        for row in session.execute(select(table).execution_options(yield_per=1000)):
            yield dict(row._mapping)

    return verify_entries(audit._batches(session), rows_of, anchor, witness=witness)


def entries_of(rows: Iterable[Mapping[str, object]]) -> Iterable[AuditEntry]:
    """Transient :class:`AuditEntry` objects from plain rows (of a backup archive), for :func:`verify_entries`."""
    for row in rows:
        yield AuditEntry(**row)
