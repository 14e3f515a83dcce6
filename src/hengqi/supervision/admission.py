"""Which events the platform stores: deduplication on (instrument, seq) and ordering (pure).

Delivery is at least once (the agent resends until the broker acknowledges), so the same event may arrive twice;
the platform stores it once.  Per instrument it keeps the highest stored ``seq`` (the watermark) and, for each
stored event, the SHA-256 of its canonical JSON.  An incoming event is then

``store``        new and above the watermark (gaps are allowed: events the bounded queue dropped are gone);
``duplicate``    the same ``seq`` with the same digest: a resend, dropped silently (counted);
``replayed``     the same ``seq`` with a different digest: a forged or corrupted resend, refused;
``out_of_order`` below the watermark and never stored: the agent sends oldest first, so this is refused.

>>> admit(watermark=9, seq=10, stored_digest=None, digest="a")
'store'
>>> admit(watermark=9, seq=9, stored_digest="a", digest="a"), admit(watermark=9, seq=9, stored_digest="a", digest="b")
('duplicate', 'replayed')
>>> admit(watermark=9, seq=4, stored_digest=None, digest="a")
'out_of_order'
"""

from __future__ import annotations

import hashlib
from typing import Final, Literal

Admission = Literal["store", "duplicate", "replayed", "out_of_order"]

#: Why a message or event was refused, as counted by the platform.
REFUSAL_REASONS: Final[tuple[str, ...]] = (
    "unauthenticated",
    "topic",
    "malformed",
    "oversized",
    "replayed",
    "out_of_order",
    "unknown_instrument",
)


def admit(*, watermark: int | None, seq: int, stored_digest: str | None, digest: str) -> Admission:
    """Classify one incoming event (see the module docstring)."""
    if stored_digest is not None:
        return "duplicate" if stored_digest == digest else "replayed"
    if watermark is not None and seq <= watermark:
        return "out_of_order"
    return "store"


def digest_of(canonical_json: str) -> str:
    """SHA-256 (hex) of an event's canonical JSON."""
    return hashlib.sha256(canonical_json.encode()).hexdigest()
