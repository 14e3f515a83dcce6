"""The pure half of field supervision on NATS JetStream: addresses, subjects, partitions, keys, ids, leases.

Nothing here opens a connection; :mod:`hengqi.server.field.jetstream` (the engine adapter) uses these so that the
naming and the exactly-once bookkeeping can be tested on their own (``docs/scale-out.md``).

Subjects: one per instrument, ``<prefix>.<org>.<instrument>.<partition>`` with the default prefix
``hengqi.field``; ``<org>`` is the Sparkplug group (the operator of the market or weighbridge) and ``<partition>``
is ``partition_of(instrument, partitions)``.  The partition is the last token so that ``hengqi.field.<org>.>``
still selects an operator and ``hengqi.field.<org>.<instrument>.>`` one instrument; a consumer of one partition
filters on ``hengqi.field.*.*.<partition>`` (NATS 2.9, the server on this project's machines, takes one filter
subject per consumer and has no subject transforms, so the publisher appends the partition token).

Tokens: NATS subject tokens may not contain ``.``, ``*``, ``>`` or white space, and JetStream key-value keys allow
only ``[-/_=.a-zA-Z0-9]``; :func:`token` escapes every other character as ``=XX`` (UTF-8 hex), ``=`` included, so
the mapping is one-to-one and its output is valid in both.

>>> token("SC-0001"), token("market 7.b")
('SC-0001', 'market=207=2Eb')
>>> instrument_subject("hengqi.field", "market-610116", "SC-00000", 16)
'hengqi.field.market-610116.SC-00000.2'
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from hengqi.errors import InputError
from hengqi.supervision.detectors import Finding
from hengqi.supervision.detectors.fleet import InstrumentProfile
from hengqi.supervision.detectors.seal import WorkOrderWindow

DEFAULT_PORT: Final = 4222
DEFAULT_PREFIX: Final = "hengqi.field"
DEFAULT_PARTITIONS: Final = 16
_PLAIN: Final = frozenset(string.ascii_letters + string.digits + "-_")


@dataclass(frozen=True, slots=True)
class StreamAddress:
    """Where the NATS server is (``nats://[user[:password]@]host[:port]``); :meth:`display` hides the password."""

    host: str
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = None

    def url(self) -> str:
        """The URL for the client library (with the credentials)."""
        cred = ""
        if self.username:
            cred = self.username + (f":{self.password}" if self.password is not None else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"nats://{cred}{host}:{self.port}"

    def display(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"nats://{user}{self.host}:{self.port}"


def parse_stream_url(url: str, *, path: str = "--stream") -> StreamAddress:
    """Parse ``nats://host[:port]``; :class:`InputError` naming ``path`` for anything else.

    >>> parse_stream_url("nats://127.0.0.1:4222")
    StreamAddress(host='127.0.0.1', port=4222, username=None, password=None)
    >>> parse_stream_url("http://x")
    Traceback (most recent call last):
    ...
    hengqi.errors.InputError: --stream: use nats://host[:port], got 'http://x'
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise InputError(path, f"not a NATS URL: {err}") from None
    if parts.scheme != "nats":
        raise InputError(path, f"use nats://host[:port], got {url.rsplit('@', maxsplit=1)[-1][:80]!r}")
    if not parts.hostname:
        raise InputError(path, "the NATS URL names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InputError(path, "the NATS URL takes no path, query or fragment")
    return StreamAddress(
        host=parts.hostname,
        port=port or DEFAULT_PORT,
        username=parts.username or None,
        password=parts.password,
    )


def token(text: str) -> str:
    """``text`` as one subject token and key part (see the module docstring); an empty text is ``=``.

    >>> token(""), token("a=b"), token("秤")
    ('=', 'a=3Db', '=E7=A7=A4')
    """
    if not text:
        return "="
    return "".join(c if c in _PLAIN else "".join(f"={b:02X}" for b in c.encode()) for c in text)


def partition_of(instrument: str, partitions: int) -> int:
    """The partition of an instrument: the first 8 bytes of SHA-256 of its id, modulo ``partitions``.

    Stable across processes, machines and languages (unlike Python's ``hash``).

    >>> partition_of("SC-00000", 16), partition_of("SC-00000", 1)
    (2, 0)
    """
    if partitions < 1:
        raise InputError("partitions", "must be at least 1")
    digest = hashlib.sha256(instrument.encode()).digest()
    return int.from_bytes(digest[:8], "big") % partitions


def instrument_subject(prefix: str, org: str, instrument: str, partitions: int) -> str:
    """The subject an instrument's events are published on."""
    return f"{prefix}.{token(org)}.{token(instrument)}.{partition_of(instrument, partitions)}"


def partition_filter(prefix: str, partition: int) -> str:
    """The filter subject of the consumer of one partition.

    >>> partition_filter("hengqi.field", 3)
    'hengqi.field.*.*.3'
    """
    return f"{prefix}.*.*.{partition}"


def partitions_of(worker: int, workers: int, partitions: int) -> tuple[int, ...]:
    """The partitions a worker serves first (round robin): worker ``i`` of ``n`` takes ``p`` with ``p % n == i``.

    >>> partitions_of(1, 3, 8)
    (1, 4, 7)
    """
    if not 0 <= worker < workers:
        raise InputError("worker", f"must be in 0..{workers - 1}")
    return tuple(p for p in range(partitions) if p % workers == worker)


def event_msg_id(instrument: str, seq: int) -> str:
    """The JetStream ``Nats-Msg-Id`` of an event: the server drops a second publish inside its duplicate window."""
    return f"{instrument}:{seq}"


def state_key(instrument: str) -> str:
    """The key-value key of an instrument's detector state."""
    return f"state.{token(instrument)}"


def profile_key(instrument: str) -> str:
    """The key-value key of an instrument's profile."""
    return f"profile.{token(instrument)}"


def position_key(partition: int) -> str:
    """The key-value key of a partition's committed stream sequence."""
    return f"position.{partition}"


def lease_key(partition: int) -> str:
    """The key-value key of a partition's lease."""
    return f"lease.{partition}"


def finding_id(finding: Finding) -> str:
    """The idempotent id of a finding: SHA-256 of instrument, detector, rule, event seqs and time.

    The same events give the same findings (the detectors are pure), so a batch processed twice (a consumer died
    after publishing its alerts and before committing its state) publishes the same ids, and JetStream keeps one.
    """
    seqs = ",".join(str(s) for s in finding.seqs)
    text = f"{finding.instrument}|{finding.detector}|{finding.rule}|{seqs}|{finding.time.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()


def profile_to_json(profile: InstrumentProfile) -> bytes:
    """An instrument profile as compact JSON (work-order times in ISO 8601)."""
    data = {
        "instrument": profile.instrument,
        "site_kind": profile.site_kind,
        "max_kg": profile.max_kg,
        "e_kg": profile.e_kg,
        "accuracy_class": profile.accuracy_class,
        "work_orders": [
            [w.opened_at.isoformat(), w.closed_at.isoformat(), w.authorised_by] for w in profile.work_orders
        ],
        "approved_software_id": profile.approved_software_id,
        "approved_checksum": profile.approved_checksum,
    }
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def profile_from_json(data: bytes) -> InstrumentProfile:
    """The inverse of :func:`profile_to_json`."""
    raw: dict[str, Any] = json.loads(data)
    orders = tuple(
        WorkOrderWindow(datetime.fromisoformat(o), datetime.fromisoformat(c), by) for o, c, by in raw["work_orders"]
    )
    return InstrumentProfile(
        raw["instrument"],
        raw["site_kind"],
        raw["max_kg"],
        raw["e_kg"],
        accuracy_class=raw["accuracy_class"],
        work_orders=orders,
        approved_software_id=raw["approved_software_id"],
        approved_checksum=raw["approved_checksum"],
    )


@dataclass(frozen=True, slots=True)
class LeaseView:
    """What one worker has seen of a partition's lease: its key-value revision and when (its own monotonic clock).

    A lease is renewed by rewriting its key; a lease whose revision has not moved for ``ttl_s`` on the observer's
    clock is taken to be abandoned.  Judging by the observer's own clock needs no clock agreement between machines.
    """

    revision: int
    seen_at: float

    def observe(self, revision: int, now: float) -> LeaseView:
        """The view after reading ``revision`` at ``now``.

        >>> LeaseView(3, 10.0).observe(3, 12.0), LeaseView(3, 10.0).observe(4, 12.0)
        (LeaseView(revision=3, seen_at=10.0), LeaseView(revision=4, seen_at=12.0))
        """
        return self if revision == self.revision else LeaseView(revision, now)

    def expired(self, now: float, ttl_s: float) -> bool:
        """True when the revision has not moved for ``ttl_s``.

        >>> LeaseView(3, 10.0).expired(11.0, 2.0), LeaseView(3, 10.0).expired(12.5, 2.0)
        (False, True)
        """
        return now - self.seen_at > ttl_s
