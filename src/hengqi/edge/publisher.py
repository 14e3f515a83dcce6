"""Publishing a :class:`~hengqi.edge.queue.ForwardQueue` to the broker as a Sparkplug B edge node.

The agent is one edge node serving one device, both named by the instrument's device id, in the group ``group``. On
every connection it publishes NBIRTH (with a new ``bdSeq``, whose NDEATH is registered as the MQTT will) and DBIRTH,
then the queued events oldest first, up to ``batch`` events per DDATA, with at most ``window`` messages
unacknowledged. Events leave the queue only when the broker has acknowledged their message (QoS 1 PUBACK with a
success reason code): at-least-once. A broker killed outright forgets what it acknowledged since its last save, so
after a lost connection the events the broker acknowledged in the ``resend_window_s`` before the loss are sent again
(:meth:`hengqi.edge.queue.ForwardQueue.requeue_acknowledged_since`); the platform drops the duplicates. Sparkplug B
3.0 asks for QoS 0 on data messages; hengqi uses QoS 1 there, because store-and-forward needs to know what the
broker has.

With ``primary_host`` set, the agent follows the Sparkplug B 3.0 primary host application rules (as listed by the
Eclipse Sparkplug TCK; the specification's text was not read here): it subscribes to ``spBv1.0/STATE/<host id>``
and publishes its NBIRTH and DBIRTH only once the host is online there; when the host goes offline (a STATE
message that is not older than the last one), it publishes NDEATH, disconnects and connects again, and waits for
the host to come back; events wait in the queue meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hengqi.edge.queue import KEEP_ACKNOWLEDGED_S, ForwardQueue
from hengqi.errors import InputError
from hengqi.supervision.broker import BrokerAddress
from hengqi.supervision.errors import TelemetryError
from hengqi.supervision.mapping import (
    dbirth_payload,
    ddeath_payload,
    nbirth_payload,
    ndeath_payload,
    payload_from_events,
)
from hengqi.supervision.sparkplug import (
    HostState,
    decode_state,
    encode_payload,
    follow_host_state,
    make_topic,
    state_topic,
)

#: MQTT 5 PUBACK reason code "No matching subscribers".
NO_MATCHING_SUBSCRIBERS = 0x10
#: Seconds to wait before resending after a refused or unheard message.
RETRY_S = 1.0
#: Seconds before a lost connection whose acknowledged events are sent again: a killed broker's unsaved
#: acknowledgements (Mosquitto: ``autosave_interval``, 1 s in this project's configurations) plus the time to notice
#: a dead broker (at most 1.5 keepalives, 15 s).
RESEND_WINDOW_S = 30.0


def _now_ms() -> int:
    return int(time.time() * 1000)


class Publisher:
    """An MQTT connection that drains a queue (see the module docstring); thread-safe."""

    def __init__(
        self,
        queue: ForwardQueue,
        broker: BrokerAddress,
        *,
        group: str,
        batch: int = 50,
        window: int = 20,
        identity: Callable[[], dict[str, str]] | None = None,
        resend_window_s: float = RESEND_WINDOW_S,
        primary_host: str | None = None,
    ) -> None:
        if not 0 <= resend_window_s <= KEEP_ACKNOWLEDGED_S:
            raise ValueError(f"resend_window_s must be within 0 and {KEEP_ACKNOWLEDGED_S}")
        self.queue = queue
        self.broker = broker
        self.device = queue.instrument
        self.group = group
        self.batch = batch
        self.window = window
        self.identity = identity
        self._lock = threading.Lock()
        self._pump_lock = threading.Lock()
        self._inflight: dict[int, list[int]] = {}
        self._early: dict[int, tuple[bool, int]] = {}
        self._acks_seen = 0
        self._retry_at = 0.0
        self._sent_through: int | None = None
        self._seq = 0
        self.connected = threading.Event()
        self.acknowledged = 0
        self.refused_acks = 0
        self.resend_window_s = resend_window_s
        self.resent = 0
        self._lost_at: float | None = None
        self._mqtt_up = False
        self._stopping = False
        self._rejoin = False
        self.host_topic = None if primary_host is None else state_topic(primary_host)
        self.host_state: HostState | None = None
        self.host_offline_disconnects = 0
        self._bd_seq = queue.next_bd_seq()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hengqi-agent-{self.device}", protocol=mqtt.MQTTv5)
        if broker.username:
            client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            try:
                client.tls_set(**broker.tls_arguments())
            except OSError as err:  # a missing or unreadable CA, certificate or key file (ssl.SSLError is one)
                raise InputError("--broker", f"TLS: {err}") from err
        client.max_inflight_messages_set(window + 2)
        client.reconnect_delay_set(1, 2)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.will_set(self._topic("NDEATH", False), encode_payload(ndeath_payload(self._bd_seq)), qos=1)
        self.client = client

    def _topic(self, kind: str, device: bool) -> str:
        return str(make_topic(self.group, kind, self.device, self.device if device else None))

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) % 256
        return self._seq

    # -- callbacks (paho's network thread; paho holds its own locks here, so ours is only taken briefly) ------------
    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            return
        with self._lock:
            self._mqtt_up = True
            self._seq = 0
            self._inflight.clear()
            self._early.clear()
            self._sent_through = None
            lost_at, self._lost_at = self._lost_at, None
        if lost_at is not None and self.resend_window_s > 0:
            self.resent += self.queue.requeue_acknowledged_since(lost_at - self.resend_window_s)
        if self.host_topic is None:
            self._birth(client)
        else:  # the host's retained STATE answers at once; the births wait for it to say online
            client.subscribe(self.host_topic, qos=1)

    def _birth(self, client: mqtt.Client) -> None:
        with self._lock:
            bd_seq = self._bd_seq
            birth_seq = self._next_seq()
        now = _now_ms()
        client.publish(self._topic("NBIRTH", False), encode_payload(nbirth_payload(bd_seq, timestamp=now)), qos=1)
        identity = self.identity() if self.identity else {}
        birth = dbirth_payload(birth_seq, timestamp=now, identity=identity)
        client.publish(self._topic("DBIRTH", True), encode_payload(birth), qos=1)
        self.connected.set()

    def _on_message(self, client: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.topic != self.host_topic:
            return
        try:
            received = decode_state(bytes(message.payload))
        except TelemetryError:
            return  # not a 3.0 STATE: neither leave to publish nor a reason to leave
        self.host_state, news = follow_host_state(self.host_state, received)
        if not news or self._stopping:
            return
        if received.online and not self.connected.is_set():
            self._birth(client)
        elif not received.online and self.connected.is_set():
            # the primary host is gone: a clean Sparkplug disconnect (NDEATH, then DISCONNECT), then connect again
            self.connected.clear()
            self.host_offline_disconnects += 1
            with self._lock:
                bd_seq = self._bd_seq
                self._rejoin = True
            client.publish(self._topic("NDEATH", False), encode_payload(ndeath_payload(bd_seq)), qos=1)
            client.disconnect()

    def _on_disconnect(self, client: mqtt.Client, _u: object, _f: object, _reason: object, _p: object) -> None:
        with self._lock:
            rejoin, self._rejoin = self._rejoin, False
            if self._mqtt_up and not rejoin:  # a lost connection (not our own leaving): resend what may be lost
                self._lost_at = time.time()
            self._mqtt_up = False
        self.connected.clear()
        bd_seq = self.queue.next_bd_seq()
        with self._lock:
            self._bd_seq = bd_seq
        client.will_set(self._topic("NDEATH", False), encode_payload(ndeath_payload(bd_seq)), qos=1)
        if rejoin and not self._stopping:
            # paho's network thread ends after a DISCONNECT we sent; a new one is started from outside it
            threading.Thread(target=self._reconnect, name=f"hengqi-agent-rejoin-{self.device}", daemon=True).start()

    def _reconnect(self) -> None:
        self.client.loop_stop()
        if not self._stopping:
            self.client.connect_async(self.broker.host, self.broker.port, keepalive=10, clean_start=True)
            self.client.loop_start()

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, reason: object, _p: object) -> None:
        # "No matching subscribers" (MQTT 5 reason code 0x10) is a success for the broker but means nobody, not
        # even the platform's persistent session, will get the message: keep the events and try again later
        failed = bool(getattr(reason, "is_failure", False)) or getattr(reason, "value", 0) == NO_MATCHING_SUBSCRIBERS
        with self._lock:
            self._acks_seen += 1
            seqs = self._inflight.pop(mid, None)
            if seqs is None:
                if len(self._early) > 10_000:
                    self._early.clear()
                # acknowledged before pump() recorded it (or a birth, or a message of an earlier connection): kept
                # with the ack count, so that pump() only takes an ack that came after it published
                self._early[mid] = (failed, self._acks_seen)
                return
            if failed:
                self.refused_acks += 1
                self._sent_through = None  # resend from the oldest unacknowledged event, after a pause
                self._retry_at = time.monotonic() + RETRY_S
                return
        self.queue.remove(seqs)
        self.acknowledged += len(seqs)

    # -- driving -------------------------------------------------------------------------------------------------
    def start(self) -> Publisher:
        """Connect in the background (retrying until :meth:`stop`)."""
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=10, clean_start=True)
        self.client.loop_start()
        return self

    def pump(self) -> int:
        """Publish queued events while the window allows; the number of events handed to the client."""
        handed = 0
        if time.monotonic() < self._retry_at:
            return 0
        with self._pump_lock:
            while self.connected.is_set():
                with self._lock:
                    if len(self._inflight) >= self.window:
                        break
                    after = self._sent_through
                events = self.queue.peek(self.batch, after=after)
                if not events:
                    break
                seqs = [e.seq for e in events]
                with self._lock:
                    sp_seq = self._next_seq()
                    acks_before = self._acks_seen
                payload = payload_from_events(events, seq=sp_seq, timestamp=_now_ms())
                info = self.client.publish(self._topic("DDATA", True), encode_payload(payload), qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    with self._lock:
                        self._sent_through = None
                    break
                with self._lock:
                    entry = self._early.pop(info.mid, None)
                    early = entry[0] if entry is not None and entry[1] > acks_before else None
                    if early is None:
                        self._inflight[info.mid] = seqs
                    self._sent_through = seqs[-1]
                if early is False:
                    self.queue.remove(seqs)
                    self.acknowledged += len(seqs)
                elif early is True:
                    with self._lock:
                        self.refused_acks += 1
                        self._sent_through = None
                        self._retry_at = time.monotonic() + RETRY_S
                    break
                handed += len(events)
        return handed

    def drain(self, *, timeout_s: float) -> bool:
        """Pump until the queue is empty (True) or ``timeout_s`` passes (False)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.pump()
            if self.queue.depth() == 0:
                return True
            time.sleep(0.01)
        return self.queue.depth() == 0

    def stop(self, *, clean: bool = True) -> None:
        """Disconnect; with ``clean`` publish DDEATH and NDEATH first (a clean Sparkplug disconnect)."""
        self._stopping = True
        if clean and self.connected.is_set():
            with self._lock:
                seq, bd_seq = self._next_seq(), self._bd_seq
            death = encode_payload(ddeath_payload(seq, timestamp=_now_ms()))
            self.client.publish(self._topic("DDEATH", True), death, qos=1)
            info = self.client.publish(self._topic("NDEATH", False), encode_payload(ndeath_payload(bd_seq)), qos=1)
            info.wait_for_publish(timeout=2)
        self.client.disconnect()
        self.client.loop_stop()
