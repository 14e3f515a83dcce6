"""The MQTT client's own cost per message in the ingest process: ``IngestWorker`` with an ingestor that stores
nothing, one event per message, through a Mosquitto started for the run.

Not a bench of ``bench/run.py``: ``.venv/bin/python bench/field_mqtt_cost.py [MESSAGES]`` (default 20 000).  The
publisher is ``field_publisher.py`` in its own process, as in ``bench_field.py``; what is counted is the CPU time of
this process (paho's network thread: select, reads, the MQTT 5 packet and its properties, the message object; the
hand-off to the writer thread; the PUBACKs) per message received.  With one event per message this is what the
ingest spends before and after :meth:`hengqi.server.field.ingest.Ingestor.handle_messages`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_field

from hengqi.server.field.ingest import IngestResult
from hengqi.server.field.mqtt import IngestWorker
from hengqi.supervision.broker import BrokerAddress


class Nothing:
    """Counts the messages handed over and stores nothing."""

    def __init__(self) -> None:
        self.received = 0

    def handle_messages(
        self, messages: Sequence[tuple[str, bytes]], received_at: datetime | None = None
    ) -> IngestResult:
        self.received += len(messages)
        return IngestResult()


def main(total: int = 20_000) -> None:
    folder = Path(tempfile.mkdtemp())
    port = bench_field._free_port()
    (folder / "m.conf").write_text(bench_field.broker_config(port))
    broker = bench_field._start_broker(folder / "m.conf", port)
    sink = Nothing()
    worker = IngestWorker(sink, BrokerAddress("127.0.0.1", port), client_id="mqtt-cost", batch_size=1000)  # type: ignore[arg-type]
    worker.start()
    publisher = Path(__file__).with_name("field_publisher.py")
    child = subprocess.Popen(
        [sys.executable, str(publisher), str(port), str(total), "1", "0", str(folder / "sent.bin")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdin is not None
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the publisher did not start")
        cpu0, wall0 = time.process_time(), time.perf_counter()
        child.stdin.write("go\n")
        child.stdin.flush()
        while sink.received < total and time.perf_counter() - wall0 < 300:
            time.sleep(0.005)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        print(
            f"MQTT client alone: {sink.received} messages in {wall:.2f} s, {cpu:.2f} CPU-s, "
            f"{cpu / max(1, sink.received) * 1e6:.1f} us of CPU per message"
        )
    finally:
        child.kill()
        child.wait(10)
        worker.stop()
        broker.terminate()
        broker.wait(10)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
