"""Where the ingest's CPU time goes, per event (50 small transaction events per message), best of 3.

Not a bench of ``bench/run.py``: ``.venv/bin/python bench/field_stages.py``.  The same messages as
``bench_field.py`` (``field_publisher._messages``), decoded, mapped to events, dumped and hashed, and then handled
whole by :meth:`hengqi.server.field.ingest.Ingestor.handle_messages` into a fresh SQLite database, 20 messages
(1 000 events) per transaction.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import bench_field
import field_publisher

from hengqi.server.field.ingest import Ingestor
from hengqi.supervision.mapping import events_from_payload
from hengqi.supervision.sparkplug import decode_payload
from hengqi.supervision.telemetry import canonical_and_body

N = 20_000


def timed(label: str, work: Callable[[], Any]) -> Any:
    best, result = float("inf"), None
    for _ in range(3):
        start = time.process_time()
        result = work()
        best = min(best, time.process_time() - start)
    print(f"{label:38s} {best / N * 1e6:6.1f} us/event")
    return result


def main() -> None:
    messages = field_publisher._messages(N, 50)
    payloads = timed("decode (Sparkplug B protobuf)", lambda: [decode_payload(m) for _t, m in messages])
    events = timed(
        "events (mapping + model validation)",
        lambda: [
            events_from_payload(topic.split("/")[-1], payload)
            for (topic, _m), payload in zip(messages, payloads, strict=True)
        ],
    )
    flat = [event for group in events for event in group]
    timed(
        "dump + canonical JSON + SHA-256",
        lambda: [hashlib.sha256(canonical_and_body(e.model_dump(mode="json"))[0].encode()).hexdigest() for e in flat],
    )
    ingestor = Ingestor(bench_field._platform(Path(tempfile.mkdtemp())))
    start = time.process_time()
    for i in range(0, len(messages), 20):
        ingestor.handle_messages(messages[i : i + 20])
    print(f"{'whole handle_messages (SQLite)':38s} {(time.process_time() - start) / N * 1e6:6.1f} us/event")


if __name__ == "__main__":
    main()
