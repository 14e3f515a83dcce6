"""The publisher process of ``bench_field.py`` (kept apart so that it starts without the server's imports).

``python bench/field_publisher.py PORT TOTAL PER_MESSAGE RATE OUT``: build ``TOTAL`` small transaction events of 20
devices as Sparkplug B DDATA messages of ``PER_MESSAGE`` events, say ``ready``, wait for a line on stdin, publish
them at QoS 1 (paced at ``RATE`` events/s when > 0), write the send times (binary64, the monotonic clock) to
``OUT`` and print the CPU seconds spent publishing.
"""

from __future__ import annotations

import os
import struct
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hengqi.supervision.mapping import payload_from_events
from hengqi.supervision.sparkplug import encode_payload
from hengqi.supervision.telemetry import TelemetryEvent, Transaction

DEVICES = 20
GROUP = "bench"


def _messages(total: int, per_message: int) -> list[tuple[str, bytes]]:
    t0 = datetime(2026, 12, 7, tzinfo=UTC)
    out = []
    seqs = [0] * DEVICES
    for m in range(total // per_message):
        device = m % DEVICES
        events = []
        for _ in range(per_message):
            seq = seqs[device]
            seqs[device] += 1
            # every event differs in its time and weight (no two devices send the same bytes: the ingest's decoder
            # keeps repeated metrics, and identical streams would flatter it)
            net = Decimal((seq * 7919 + device * 104_729) % 15_000) / 1000
            events.append(
                TelemetryEvent(
                    instrument=f"D{device:03d}",
                    seq=seq,
                    time=t0 + timedelta(milliseconds=seq * 1000 + device * 37),
                    body=Transaction(gross_kg=net, net_kg=net),
                )
            )
        payload = encode_payload(payload_from_events(events, seq=(m + 1) % 256, timestamp=0))
        out.append((f"spBv1.0/{GROUP}/DDATA/D{device:03d}/D{device:03d}", payload))
    return out


def publisher_process(port: int, total: int, per_message: int, rate: float, out: Path) -> None:
    """The publisher, in a process of its own: build the messages, say ``ready``, wait for a line on stdin, publish
    (paced when ``rate`` > 0), then write the send times (binary64) to ``out`` and print its CPU seconds."""
    messages = _messages(total, per_message)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}", protocol=mqtt.MQTTv5)
    publisher.max_inflight_messages_set(200)
    publisher.max_queued_messages_set(0)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    print("ready", flush=True)
    sys.stdin.readline()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    interval = per_message / rate if rate > 0 else None
    sent: list[float] = []
    infos = []
    for k, (topic, payload) in enumerate(messages):
        if interval is not None:
            pause = wall0 + k * interval - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        sent.append(time.perf_counter())
        infos.append(publisher.publish(topic, payload, qos=1))
    for info in infos:
        info.wait_for_publish(timeout=600)
    out.write_bytes(struct.pack(f"<{len(sent)}d", *sent))
    publisher.disconnect()
    publisher.loop_stop()
    print(f"{time.process_time() - cpu0:.3f}", flush=True)


def publish(port: int, total: int, per_message: int, rate: float, out: Path) -> None:
    messages = _messages(total, per_message)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}", protocol=mqtt.MQTTv5)
    publisher.max_inflight_messages_set(200)
    publisher.max_queued_messages_set(0)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    print("ready", flush=True)
    sys.stdin.readline()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    interval = per_message / rate if rate > 0 else None
    sent: list[float] = []
    infos = []
    for k, (topic, payload) in enumerate(messages):
        if interval is not None:
            pause = wall0 + k * interval - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        sent.append(time.perf_counter())
        infos.append(publisher.publish(topic, payload, qos=1))
    for info in infos:
        info.wait_for_publish(timeout=600)
    out.write_bytes(struct.pack(f"<{len(sent)}d", *sent))
    publisher.disconnect()
    publisher.loop_stop()
    print(f"{time.process_time() - cpu0:.3f}", flush=True)


if __name__ == "__main__":
    port, total, per_message, rate, out = sys.argv[1:6]
    publish(int(port), int(total), int(per_message), float(rate), Path(out))
