"""Where the ingest's CPU time goes, per event (small transaction events), best of 3, on SQLite and PostgreSQL.

Not a bench of ``bench/run.py``: ``.venv/bin/python bench/field_stages.py [EVENTS_PER_MESSAGE]`` (default 50).  The
same messages as ``bench_field.py`` (``field_publisher._messages``): decoded, turned into records (the ingest's
path, :func:`hengqi.supervision.mapping.records_from_payload`) and hashed; for comparison the model's path of
earlier versions (:func:`events_from_payload`, ``model_dump``, canonical JSON); then handled whole by
:meth:`hengqi.server.field.ingest.Ingestor.handle_messages` into a fresh SQLite database and, where a server
answers on 127.0.0.1:5432, a fresh PostgreSQL database (dropped after), 1 000 events per transaction.  The rest
of the whole (whole minus decode, records and digests) is the database's part: device and status bookkeeping,
the insert and the commit.  The MQTT client's cost per message (paho) is not in here; ``bench_field.py`` has it.
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
from hengqi.supervision.mapping import events_from_payload, records_from_payload
from hengqi.supervision.sparkplug import decode_payload
from hengqi.supervision.telemetry import canonical_and_body

N = 20_000


def timed(label: str, work: Callable[[], Any], n: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(3):
        start = time.process_time()
        result = work()
        best = min(best, time.process_time() - start)
    print(f"{label:44s} {best / n * 1e6:6.1f} us/event")
    return best / n * 1e6, result


def whole(label: str, messages: list[tuple[str, bytes]], per_message: int, url: str | None, n: int) -> float:
    ingestor = Ingestor(bench_field._platform(Path(tempfile.mkdtemp()), url))
    step = max(1, 1000 // per_message)
    start = time.process_time()
    for i in range(0, len(messages), step):
        ingestor.handle_messages(messages[i : i + step])
    spent = (time.process_time() - start) / n * 1e6
    ingestor.database.dispose()
    print(f"{label:44s} {spent:6.1f} us/event  ({1e6 / spent:,.0f} events per CPU-second)")
    return spent


def main(per_message: int = 50) -> None:
    n = N if per_message > 1 else N // 4
    messages = field_publisher._messages(n, per_message)
    devices = [topic.split("/")[-1] for topic, _m in messages]
    decode, payloads = timed("decode (Sparkplug B protobuf)", lambda: [decode_payload(m) for _t, m in messages], n)
    records_cost, records = timed(
        "records (checks, canonical JSON, body JSON)",
        lambda: [records_from_payload(d, p) for d, p in zip(devices, payloads, strict=True)],
        n,
    )
    flat = [r for group in records for r in group]
    digest, _ = timed("SHA-256 of the canonical JSON", lambda: [hashlib.sha256(r.canonical.encode()) for r in flat], n)
    timed(
        "  for comparison: model validation",
        lambda: [events_from_payload(d, p) for d, p in zip(devices, payloads, strict=True)],
        n,
    )
    events = [e for d, p in zip(devices, payloads, strict=True) for e in events_from_payload(d, p)]
    timed(
        "  for comparison: model_dump + json.dumps",
        lambda: [canonical_and_body(e.model_dump(mode="json")) for e in events],
        n,
    )
    parts = decode + records_cost + digest
    spent = whole("whole handle_messages (SQLite)", messages, per_message, None, n)
    print(f"{'  of which database (the rest)':44s} {spent - parts:6.1f} us/event")
    url = bench_field._pg_database()
    if url is not None:
        try:
            spent = whole("whole handle_messages (PostgreSQL)", messages, per_message, url, n)
            print(f"{'  of which database (the rest)':44s} {spent - parts:6.1f} us/event")
        finally:
            bench_field._drop_pg(url)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
