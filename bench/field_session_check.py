"""Does a restarted Mosquitto still know a persistent MQTT 5 session?  (A check, not a bench of ``bench/run.py``.)

``.venv/bin/python bench/field_session_check.py [--kill] [--away] [--as-mosquitto-user]``: a client with a
persistent session (clean start off, session expiry one day) subscribes to ``t/#`` at QoS 1; the broker is stopped
(SIGTERM, or SIGKILL with ``--kill``) while the client is connected (or after it left, ``--away``) and started
again; another client publishes at QoS 1 before the first one is back.  Prints the PUBACK reason code: 0 when the
broker still has the session's subscription, 16 ("no matching subscribers") when it forgot it, and the number of
failed saves in the broker's log.  ``--as-mosquitto-user`` leaves out the configuration's ``user`` line: started as
root, Mosquitto then runs as ``mosquitto``, which cannot write the temporary folder (see bench/README.md).
"""

from __future__ import annotations

import getpass
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

MOSQUITTO = "/usr/sbin/mosquitto"


def main(argv: list[str]) -> None:
    stop = signal.SIGKILL if "--kill" in argv else signal.SIGTERM
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    folder = Path(tempfile.mkdtemp())
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence true"]
    lines += [f"persistence_location {folder}/", "autosave_interval 1"]
    if "--as-mosquitto-user" not in argv:
        lines.append(f"user {getpass.getuser()}")
    (folder / "m.conf").write_text("\n".join(lines) + "\n")

    def broker() -> subprocess.Popen[bytes]:
        process = subprocess.Popen([MOSQUITTO, "-c", str(folder / "m.conf")], stderr=(folder / "log").open("ab"))
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                return process
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    process = broker()
    subscriber = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="session-check", protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 86_400
    subscriber.connect("127.0.0.1", port, clean_start=False, properties=props)
    subscriber.loop_start()
    time.sleep(0.5)
    subscriber.subscribe("t/#", qos=1)
    time.sleep(1.5)  # past one autosave
    if "--away" in argv:
        subscriber.disconnect()
        time.sleep(1.5)
    subscriber.loop_stop()  # no reconnecting while the broker is away
    process.send_signal(stop)
    process.wait()
    process = broker()
    codes: list[int] = []
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="session-check-pub", protocol=mqtt.MQTTv5)
    publisher.on_publish = lambda _c, _u, _mid, reason, _p: codes.append(reason.value)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    publisher.publish("t/x", b"1", qos=1).wait_for_publish(3)
    time.sleep(0.3)
    publisher.disconnect()
    publisher.loop_stop()
    process.terminate()
    process.wait()
    failed = (folder / "log").read_text(errors="replace").count("Error saving")
    print(f"{' '.join(argv) or '(SIGTERM, connected)'}: PUBACK reason {codes}; failed saves in the log: {failed}")


if __name__ == "__main__":
    main(sys.argv[1:])
