"""The MQTT adapter of the ingest: subscribe to ``spBv1.0/#`` and hand batches to the :class:`Ingestor`.

At-least-once end to end: the subscription is QoS 1 in a persistent MQTT 5 session (clean start off, session
expiry one day), and each message is acknowledged (PUBACK, paho's ``manual_ack``) only after the transaction that
stored it has committed.  If the ingest process dies in between, the broker delivers the message again and the
ingest drops the duplicate on (device, seq).

The worker is the Sparkplug primary host application ``host_id`` (Sparkplug B 3.0, host application STATE; see
:class:`hengqi.supervision.sparkplug.HostState`): its MQTT will is ``{"online": false, "timestamp": T}`` on
``spBv1.0/STATE/<host_id>``, retained at QoS 1; after subscribing it publishes ``{"online": true, "timestamp": T}``
there, retained, with the same T; on a clean stop it publishes the offline message itself.  Should it ever receive
its own offline STATE while connected (a will of an older connection), it publishes its birth again.  Agents
configured with this host id publish nothing before they see it online.  Deviation, on purpose: Sparkplug asks
host applications for a clean session; hengqi's ingest keeps a persistent session, so that nothing is lost while
it restarts.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hengqi.errors import HengqiError, InputError
from hengqi.server.field.ingest import Ingestor, IngestResult
from hengqi.supervision.broker import BrokerAddress
from hengqi.supervision.errors import TelemetryError
from hengqi.supervision.sparkplug import HostState, decode_state, encode_state, state_topic

SUBSCRIPTION = "spBv1.0/#"
SESSION_EXPIRY_S = 86_400
#: The Sparkplug host id of the platform's ingest (agents name it with ``--primary-host``).
HOST_ID = "hengqi"


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class IngestStats:
    """Running totals of one worker (for logs, tests and the benchmark)."""

    messages: int = 0
    batches: int = 0
    stale_acks: int = 0
    state_rebirths: int = 0
    total: IngestResult = field(default_factory=IngestResult)


class IngestWorker:
    """Subscribe and ingest in batches of up to ``batch_size`` messages or ``batch_wait_s`` seconds."""

    def __init__(
        self,
        ingestor: Ingestor,
        broker: BrokerAddress,
        *,
        client_id: str = "hengqi-ingest",
        batch_size: int = 500,
        batch_wait_s: float = 0.02,
        host_id: str | None = None,
    ) -> None:
        self.ingestor = ingestor
        self.broker = broker
        self.batch_size = batch_size
        self.batch_wait_s = batch_wait_s
        self.stats = IngestStats()
        self._queue: queue.Queue[tuple[int, mqtt.MQTTMessage]] = queue.Queue()
        self._generation = 0  # one per network connection: a PUBACK is sent only on the connection it belongs to
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True)
        if broker.username:
            client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            try:
                client.tls_set(**broker.tls_arguments())
            except OSError as err:  # a missing or unreadable CA, certificate or key file (ssl.SSLError is one)
                raise InputError("--broker", f"TLS: {err}") from err
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        client.reconnect_delay_set(1, 2)
        self.client = client
        self.state_topic = None if host_id is None else state_topic(host_id)
        self._state_ms = _now_ms()
        self._set_will()

    def _set_will(self) -> None:
        if self.state_topic is not None:
            death = encode_state(HostState(False, self._state_ms))
            self.client.will_set(self.state_topic, death, qos=1, retain=True)

    def _publish_birth(self, client: mqtt.Client) -> None:
        if self.state_topic is not None:
            client.publish(self.state_topic, encode_state(HostState(True, self._state_ms)), qos=1, retain=True)

    def _on_disconnect(self, _c: mqtt.Client, _u: object, _f: object, _reason: object, _p: object) -> None:
        if not self._stop.is_set():
            self._state_ms = _now_ms()  # the next connection's will and birth
            self._set_will()

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            return
        self._generation += 1
        client.subscribe(SUBSCRIPTION, qos=1)  # covers our own STATE topic; subscribed before the birth
        self._publish_birth(client)
        self._connected.set()

    def _on_message(self, client: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.topic.startswith("spBv1.0/STATE/"):
            client.ack(message.mid, message.qos)
            if message.topic == self.state_topic and not self._stop.is_set():
                try:
                    state = decode_state(bytes(message.payload))
                except TelemetryError:
                    return
                if not state.online:
                    self.stats.state_rebirths += 1
                    self._publish_birth(client)
            return
        self._queue.put((self._generation, message))

    def start(self, *, timeout_s: float = 10.0) -> IngestWorker:
        """Connect (persistent session) and start the network loop and the writer thread."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        try:
            self.client.connect(self.broker.host, self.broker.port, keepalive=30, clean_start=False, properties=props)
        except OSError as err:
            raise HengqiError(f"cannot reach the broker at {self.broker.display()}: {err}") from err
        self.client.loop_start()
        self._thread = threading.Thread(target=self._run, name="hengqi-ingest", daemon=True)
        self._thread.start()
        if not self._connected.wait(timeout_s):
            self.stop()
            raise HengqiError(f"the broker at {self.broker.display()} did not accept the ingest connection")
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.monotonic() + self.batch_wait_s
            while len(batch) < self.batch_size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=remaining))
                except queue.Empty:
                    break
            result = self.ingestor.handle_messages([(m.topic, bytes(m.payload)) for _g, m in batch])
            for generation, message in batch:
                # a message of an earlier connection is not acknowledged on this one (its packet id may now name
                # another message); the broker delivers it again and the duplicate is dropped
                if generation == self._generation:
                    self.client.ack(message.mid, message.qos)
                else:
                    self.stats.stale_acks += 1
            self.stats.messages += len(batch)
            self.stats.batches += 1
            self.stats.total.merge(result)

    def stop(self) -> None:
        """Stop writing and disconnect (the broker keeps the session and whatever was not acknowledged)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.state_topic is not None and self._connected.is_set():
            death = encode_state(HostState(False, self._state_ms))
            info = self.client.publish(self.state_topic, death, qos=1, retain=True)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                info.wait_for_publish(timeout=2)
        self.client.disconnect()
        self.client.loop_stop()
