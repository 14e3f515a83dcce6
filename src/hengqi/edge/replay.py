"""Publish recorded or simulated telemetry over MQTT as Sparkplug B edge nodes (one per instrument).

Used by ``hengqi sim field --broker``: each instrument is born (NBIRTH with a bdSeq, DBIRTH), its events follow in
DDATA messages of up to ``batch`` events in seq order at QoS 1, paced to ``rate`` events/s overall where given,
and it dies cleanly (DDEATH, NDEATH).  One MQTT connection carries every instrument, so the broker must let that
client write every device's topics (an anonymous loopback broker, or a replay user in the ACL).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hengqi.errors import HengqiError, InputError
from hengqi.supervision.broker import BrokerAddress
from hengqi.supervision.mapping import (
    dbirth_payload,
    ddeath_payload,
    nbirth_payload,
    ndeath_payload,
    payload_from_events,
)
from hengqi.supervision.sparkplug import encode_payload, make_topic
from hengqi.supervision.telemetry import TelemetryEvent


def publish_events(
    events: Sequence[TelemetryEvent],
    groups: dict[str, str],
    broker: BrokerAddress,
    *,
    batch: int = 50,
    rate: float | None = None,
    timeout_s: float = 60.0,
) -> int:
    """Publish ``events`` (instrument -> group in ``groups``); the number of messages the broker acknowledged."""
    by_instrument: dict[str, list[TelemetryEvent]] = defaultdict(list)
    for event in events:
        by_instrument[event.instrument].append(event)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"hengqi-replay-{int(time.time() * 1000)}", protocol=mqtt.MQTTv5
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        try:
            client.tls_set(**broker.tls_arguments())
        except OSError as err:  # a missing or unreadable CA, certificate or key file (ssl.SSLError is an OSError)
            raise InputError("--broker", f"TLS: {err}") from err
    client.max_inflight_messages_set(100)
    try:
        client.connect(broker.host, broker.port)
    except OSError as err:
        raise HengqiError(f"cannot reach the broker at {broker.display()}: {err}") from err
    client.loop_start()
    infos: list[mqtt.MQTTMessageInfo] = []
    started = time.monotonic()
    sent = 0
    try:
        for instrument, items in sorted(by_instrument.items()):
            group = groups[instrument]
            items.sort(key=lambda e: e.seq)
            now = int(time.time() * 1000)
            seq = 0
            topic = str(make_topic(group, "NBIRTH", instrument))
            infos.append(client.publish(topic, encode_payload(nbirth_payload(0, timestamp=now)), qos=1))
            seq += 1
            topic = str(make_topic(group, "DBIRTH", instrument, instrument))
            infos.append(client.publish(topic, encode_payload(dbirth_payload(seq, timestamp=now)), qos=1))
            data_topic = str(make_topic(group, "DDATA", instrument, instrument))
            for start in range(0, len(items), batch):
                chunk = items[start : start + batch]
                seq = (seq + 1) % 256
                payload = payload_from_events(chunk, seq=seq, timestamp=int(time.time() * 1000))
                infos.append(client.publish(data_topic, encode_payload(payload), qos=1))
                sent += len(chunk)
                if rate is not None:
                    pause = started + sent / rate - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
            seq = (seq + 1) % 256
            topic = str(make_topic(group, "DDEATH", instrument, instrument))
            infos.append(client.publish(topic, encode_payload(ddeath_payload(seq, timestamp=now)), qos=1))
            topic = str(make_topic(group, "NDEATH", instrument))
            infos.append(client.publish(topic, encode_payload(ndeath_payload(0)), qos=1))
        deadline = time.monotonic() + timeout_s
        for info in infos:
            info.wait_for_publish(timeout=max(0.1, deadline - time.monotonic()))
        return sum(1 for info in infos if info.is_published())
    finally:
        client.disconnect()
        client.loop_stop()
