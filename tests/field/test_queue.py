"""The agent's store-and-forward queue: bounded (oldest dropped, counted), survives reopening, one instrument."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from hengqi.edge.queue import KEEP_ACKNOWLEDGED_S, ForwardQueue
from hengqi.errors import InputError
from hengqi.supervision.mapping import events_from_payload, payload_from_events
from hengqi.supervision.sparkplug import decode_payload, encode_payload
from hengqi.supervision.telemetry import Heartbeat


def test_bounded_persistent_queue(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    queue = ForwardQueue(path, "SC-1", capacity=5)
    t = datetime(2026, 12, 7, 8, 0, 0, 123456, tzinfo=UTC)
    events = [queue.append(t, Heartbeat(queue_depth=i)) for i in range(8)]
    assert [e.seq for e in events] == list(range(8))
    assert queue.depth() == 5
    assert queue.dropped == 3
    assert [e.seq for e in queue.peek(10)] == [3, 4, 5, 6, 7]
    assert [e.seq for e in queue.peek(2, after=4)] == [5, 6]
    queue.remove([3, 4])
    bd = queue.next_bd_seq()
    queue.close()
    again = ForwardQueue(path, "SC-1", capacity=5)
    assert [e.seq for e in again.peek(10)] == [5, 6, 7]
    assert again.append(t, Heartbeat()).seq == 8  # the sequence goes on after a restart
    assert again.next_bd_seq() == (bd + 1) % 256
    assert again.dropped == 3
    # times are cut to milliseconds, so the event decoded from MQTT is the event queued (same digest)
    queued = again.peek(1, after=7)[0]
    assert queued.time.microsecond == 123000
    decoded = events_from_payload(
        "SC-1", decode_payload(encode_payload(payload_from_events([queued], seq=1, timestamp=0)))
    )
    assert decoded[0].canonical_json() == queued.canonical_json()
    again.close()
    with pytest.raises(InputError, match="queue of 'SC-1'"):
        ForwardQueue(path, "SC-2")
    with pytest.raises(InputError):
        ForwardQueue(tmp_path / "other.sqlite3", "SC-3", capacity=0)


def test_acknowledged_events_are_kept_for_a_resend(tmp_path: Path) -> None:
    """A broker killed outright forgets what it acknowledged since its last save: the agent can send it again."""
    queue = ForwardQueue(tmp_path / "q.sqlite3", "SC-1")
    t = datetime(2026, 12, 7, tzinfo=UTC)
    for i in range(6):
        queue.append(t, Heartbeat(queue_depth=i))
    queue.remove([0, 1], now=1000.0)
    queue.remove([2, 3], now=1050.0)
    assert queue.depth() == 2
    assert queue.requeue_acknowledged_since(1040.0) == 2  # acknowledged in the window before the loss
    assert [e.seq for e in queue.peek(10)] == [2, 3, 4, 5]
    assert queue.requeue_acknowledged_since(0.0) == 2  # 0 and 1 were still kept (within KEEP_ACKNOWLEDGED_S)
    queue.remove([0, 1, 2, 3], now=1100.0)
    queue.remove([4], now=1100.0 + KEEP_ACKNOWLEDGED_S + 1)  # purges what is older than the keeping time
    assert queue.requeue_acknowledged_since(0.0) == 1
    assert [e.seq for e in queue.peek(10)] == [4, 5]
    queue.close()
