"""The MQTT -> JetStream bridge: Sparkplug B DDATA from the broker into one JetStream subject per instrument.

``hengqi field ingest --broker mqtt://… --stream nats://…`` runs this instead of the database ingest.  At least once
end to end, exactly once in the stream: the subscription is QoS 1 in a persistent MQTT 5 session, each message is
acknowledged to the broker (PUBACK) only after JetStream has acknowledged every event it carried, and each event is
published with ``Nats-Msg-Id = instrument:seq`` so that a message the broker delivers again is dropped by the server
(inside the stream's duplicate window; past it, the detector workers' watermark skips it).

The bridge keeps no database: who may publish on a device's topics is the broker's ACL (``hengqi field acl``), the
``<org>`` token of the subject is the Sparkplug group.  Topics and payloads that do not parse are refused and counted
(:data:`hengqi.supervision.admission.REFUSAL_REASONS` classes), never raised; birth and death certificates carry no
detector input and are only counted.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from nats.js import JetStreamContext
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hengqi.errors import HengqiError
from hengqi.server.field.jetstream import StreamLayout, publish_events
from hengqi.server.field.mqtt import SESSION_EXPIRY_S, SUBSCRIPTION
from hengqi.supervision.broker import BrokerAddress
from hengqi.supervision.errors import TelemetryError
from hengqi.supervision.mapping import events_from_payload
from hengqi.supervision.sparkplug import decode_payload, parse_topic
from hengqi.supervision.telemetry import TelemetryEvent

MAX_MESSAGE_BYTES = 1 << 20


@dataclass
class BridgeStats:
    """Running totals of the bridge."""

    messages: int = 0
    events: int = 0
    duplicates: int = 0
    certificates: int = 0
    stale_acks: int = 0
    refused: Counter[str] = field(default_factory=Counter)


class MqttBridge:
    """Subscribe to ``spBv1.0/#`` and publish the events into JetStream (see the module docstring).

    Runs inside an asyncio loop that owns the NATS connection (``js``); paho's network thread hands messages over
    with ``call_soon_threadsafe``.
    """

    def __init__(
        self,
        js: JetStreamContext,
        layout: StreamLayout,
        broker: BrokerAddress,
        *,
        client_id: str = "hengqi-bridge",
        batch_size: int = 200,
    ) -> None:
        self.js = js
        self.layout = layout
        self.broker = broker
        self.batch_size = batch_size
        self.stats = BridgeStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[int, mqtt.MQTTMessage]] = asyncio.Queue()
        self._generation = 0
        self._connected = threading.Event()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True)
        if broker.username:
            client.username_pw_set(broker.username, broker.password)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.reconnect_delay_set(1, 2)
        self.client = client

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            return
        self._generation += 1
        client.subscribe(SUBSCRIPTION, qos=1)
        self._connected.set()

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (self._generation, message))

    async def start(self, *, timeout_s: float = 10.0) -> MqttBridge:
        """Connect to the broker (persistent session) and start paho's network thread."""
        self._loop = asyncio.get_running_loop()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        try:
            self.client.connect(self.broker.host, self.broker.port, keepalive=30, clean_start=False, properties=props)
        except OSError as err:
            raise HengqiError(f"cannot reach the broker at {self.broker.display()}: {err}") from err
        self.client.loop_start()
        if not await asyncio.to_thread(self._connected.wait, timeout_s):
            self.stop()
            raise HengqiError(f"the broker at {self.broker.display()} did not accept the bridge's connection")
        return self

    def stop(self) -> None:
        """Disconnect (the broker keeps the session and what was not acknowledged)."""
        self.client.disconnect()
        self.client.loop_stop()

    def _events(self, message: mqtt.MQTTMessage) -> list[tuple[str, TelemetryEvent]]:
        """The (org, event) pairs a message carries; refusals are counted."""
        try:
            topic = parse_topic(message.topic)
        except TelemetryError:
            self.stats.refused["topic"] += 1
            return []
        if topic.message_type != "DDATA" or topic.device is None:
            self.stats.certificates += 1
            return []
        if len(message.payload) > MAX_MESSAGE_BYTES:
            self.stats.refused["oversized"] += 1
            return []
        try:
            events = events_from_payload(topic.device, decode_payload(bytes(message.payload)))
        except TelemetryError as err:
            self.stats.refused[err.reason_class] += 1
            return []
        return [(topic.group, e) for e in events]

    async def run(self, stop: asyncio.Event) -> None:
        """Move batches from the broker into the stream until ``stop`` is set."""
        while not stop.is_set():
            try:
                first = await asyncio.wait_for(self._queue.get(), 0.2)
            except TimeoutError:
                continue
            batch = [first]
            while len(batch) < self.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            pairs = [pair for _g, m in batch for pair in self._events(m)]
            result = await publish_events(self.js, self.layout, pairs)
            self.stats.events += result.stored
            self.stats.duplicates += result.duplicates
            for generation, message in batch:
                if generation == self._generation:
                    self.client.ack(message.mid, message.qos)
                else:
                    self.stats.stale_acks += 1
            self.stats.messages += len(batch)
