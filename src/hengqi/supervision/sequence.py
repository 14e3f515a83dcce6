"""Sparkplug B session bookkeeping: ``bdSeq`` and ``seq`` make gaps and offline periods visible (pure).

Sparkplug B 3.0, chapter 4 and 6.4.18-6.4.19: an edge node's NBIRTH carries ``seq`` 0 and the ``bdSeq`` of the
NDEATH it registered as its MQTT will; every later message of that node (NDATA, DBIRTH, DDATA, DDEATH) carries
the next ``seq``, 0-255, wrapping 255 -> 0.  An NDEATH whose ``bdSeq`` differs from the current birth's is stale
(it belongs to an older session) and changes nothing.

:func:`observe` is a function of (state, message) -> (state, findings), so the same bookkeeping runs in the
embedded ingest, a test or a sharded consumer.

>>> s, f = observe(NodeSession(), "NBIRTH", seq=0, bd_seq=4, at_ms=1000)
>>> s, f = observe(s, "DDATA", seq=1, bd_seq=None, at_ms=1100)
>>> s, f = observe(s, "DDATA", seq=3, bd_seq=None, at_ms=1200)
>>> f
(SequenceGap(at_ms=1200, expected=2, received=3, missing=1),)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

SEQ_MODULUS: Final = 256


@dataclass(frozen=True, slots=True)
class NodeSession:
    """What is known of one edge node's session: its birth's bdSeq, the next seq expected, online or not."""

    bd_seq: int | None = None
    next_seq: int | None = None
    online: bool = False
    online_since_ms: int | None = None
    offline_since_ms: int | None = None


@dataclass(frozen=True, slots=True)
class SequenceGap:
    """Messages between ``expected`` and ``received`` were not seen (``missing`` of them, modulo 256)."""

    at_ms: int
    expected: int
    received: int
    missing: int


@dataclass(frozen=True, slots=True)
class WentOffline:
    """The node died (NDEATH: its will, or a clean disconnect) at ``at_ms``."""

    at_ms: int
    bd_seq: int | None


@dataclass(frozen=True, slots=True)
class CameOnline:
    """The node was born again; ``offline_ms`` is how long it had been dead, where known."""

    at_ms: int
    bd_seq: int | None
    offline_ms: int | None


@dataclass(frozen=True, slots=True)
class WithoutBirth:
    """A data or device message from a node with no current birth (the platform asks for a rebirth)."""

    at_ms: int
    message_type: str


@dataclass(frozen=True, slots=True)
class StaleDeath:
    """An NDEATH of an older session (its ``bdSeq`` is not the current birth's): ignored."""

    at_ms: int
    bd_seq: int | None


Finding = SequenceGap | WentOffline | CameOnline | WithoutBirth | StaleDeath


def observe(
    state: NodeSession, message_type: str, *, seq: int | None, bd_seq: int | None, at_ms: int
) -> tuple[NodeSession, tuple[Finding, ...]]:
    """The session after one message of the node, and what it reveals."""
    if message_type == "NBIRTH":
        offline = None if state.offline_since_ms is None else at_ms - state.offline_since_ms
        born = NodeSession(bd_seq=bd_seq, next_seq=1, online=True, online_since_ms=at_ms)
        return born, (CameOnline(at_ms, bd_seq, offline),)
    if message_type == "NDEATH":
        if state.online and bd_seq is not None and state.bd_seq is not None and bd_seq != state.bd_seq:
            return state, (StaleDeath(at_ms, bd_seq),)
        if not state.online:
            return state, ()
        dead = replace(state, online=False, next_seq=None, offline_since_ms=at_ms, online_since_ms=None)
        return dead, (WentOffline(at_ms, bd_seq),)
    if not state.online or state.next_seq is None:
        return state, (WithoutBirth(at_ms, message_type),)
    received = (seq or 0) % SEQ_MODULUS
    findings: tuple[Finding, ...] = ()
    if received != state.next_seq:
        missing = (received - state.next_seq) % SEQ_MODULUS
        findings = (SequenceGap(at_ms, state.next_seq, received, missing),)
    return replace(state, next_seq=(received + 1) % SEQ_MODULUS), findings
