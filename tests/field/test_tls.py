"""Device authentication by client certificate, against a Mosquitto of the test's own with a test CA.

The broker requires a certificate signed by the platform's CA and takes its common name as the user name
(``require_certificate true``, ``use_identity_as_username true``), so the ACL of ``hengqi field acl`` applies
unchanged: a device certificate's CN is the device id.
"""

from __future__ import annotations

import datetime as dt
import getpass
import ipaddress
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select
from tests.field.conftest import MOSQUITTO, free_port, make_platform, port_open, unique
from tests.field.test_broker import stored, wait_for

from hengqi.edge.publisher import Publisher
from hengqi.edge.queue import ForwardQueue
from hengqi.errors import InputError
from hengqi.server.field.broker import acl_text
from hengqi.server.field.ingest import Ingestor
from hengqi.server.field.models import FieldEvent
from hengqi.server.field.mqtt import IngestWorker
from hengqi.supervision.broker import BrokerAddress, parse_broker_url
from hengqi.supervision.mapping import payload_from_events
from hengqi.supervision.sparkplug import encode_payload
from hengqi.supervision.telemetry import TelemetryEvent, Transaction


@dataclass
class Issued:
    cert: Path
    key: Path


class CertificateAuthority:
    """A certificate authority for one test (EC P-256, valid for a day)."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.path = folder / f"{name}.pem"
        self.path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, common_name: str, *, server: bool = False) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
        )
        if server:
            names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        out = Issued(self.folder / f"{self.name}-{common_name}.crt", self.folder / f"{self.name}-{common_name}.key")
        out.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        out.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return out


def tls_url(port: int, ca: Path, who: Issued | None = None) -> str:
    files = f"ca={ca}" + ("" if who is None else f"&cert={who.cert}&key={who.key}")
    return f"mqtts://127.0.0.1:{port}?{files}"


def accepted(url: str) -> bool:
    """Whether the broker accepts a connection (TLS handshake and CONNACK) with these credentials."""
    address = parse_broker_url(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=unique("probe"), protocol=mqtt.MQTTv5)
    client.tls_set(**address.tls_arguments())
    outcome: list[bool] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: outcome.append(not reason.is_failure)
    try:
        client.connect(address.host, address.port)
    except OSError:  # the handshake failed: no certificate, or one the broker's CA did not sign
        return False
    client.loop_start()
    deadline = time.monotonic() + 5
    while not outcome and client.is_connected() is False and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    connected = bool(outcome and outcome[0] and client.is_connected())
    client.disconnect()
    client.loop_stop()
    return connected


@pytest.mark.slow
def test_devices_authenticate_with_client_certificates(tmp_path: Path) -> None:
    group, device, other = unique("market"), unique("SC"), unique("SC")
    ca = CertificateAuthority(tmp_path, "platform-ca")
    rogue = CertificateAuthority(tmp_path, "rogue-ca")
    server = ca.issue("localhost", server=True)
    ingest_cert, device_cert = ca.issue("ingest"), ca.issue(device)
    forged = rogue.issue(device)
    port = free_port()
    (tmp_path / "acl").write_text(acl_text([(group, device), (group, other)], ingest_user="ingest") + "\n")
    (tmp_path / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\ncafile {ca.path}\ncertfile {server.cert}\nkeyfile {server.key}\n"
        "require_certificate true\nuse_identity_as_username true\nallow_anonymous false\n"
        f"acl_file {tmp_path / 'acl'}\nuser {getpass.getuser()}\nlog_dest stderr\n"
    )
    log = (tmp_path / "mosquitto.log").open("ab")
    broker = __import__("subprocess").Popen([MOSQUITTO, "-c", str(tmp_path / "mosquitto.conf")], stderr=log)
    platform = make_platform(f"sqlite:///{tmp_path / 'db.sqlite3'}", [device, other], group=group)
    worker = publisher = None
    try:
        wait_for(lambda: port_open(port), 10)
        assert not accepted(tls_url(port, ca.path))  # no client certificate
        assert not accepted(tls_url(port, ca.path, forged))  # the device's name, signed by another CA
        assert accepted(tls_url(port, ca.path, device_cert))
        with pytest.raises(InputError, match="TLS"):
            IngestWorker(
                Ingestor(platform.database),
                BrokerAddress("127.0.0.1", port, ca_file=str(tmp_path / "no.pem"), tls=True),
            )
        worker = IngestWorker(
            Ingestor(platform.database), parse_broker_url(tls_url(port, ca.path, ingest_cert)), client_id=unique("i")
        ).start()
        queue = ForwardQueue(tmp_path / "queue.sqlite3", device)
        publisher = Publisher(queue, parse_broker_url(tls_url(port, ca.path, device_cert)), group=group).start()
        t = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
        for i in range(10):
            queue.append(t, Transaction(gross_kg=Decimal(i), net_kg=Decimal(i)))
        assert publisher.drain(timeout_s=20)
        wait_for(lambda: len(stored(platform, device)) == 10)
        # the device's certificate on the other device's topic: the broker's ACL drops it
        address = parse_broker_url(tls_url(port, ca.path, device_cert))
        raw = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=unique("raw"), protocol=mqtt.MQTTv5)
        raw.tls_set(**address.tls_arguments())
        raw.connect(address.host, address.port)
        raw.loop_start()
        event = TelemetryEvent(
            instrument=other, seq=0, time=t, body=Transaction(gross_kg=Decimal(1), net_kg=Decimal(1))
        )
        payload = encode_payload(payload_from_events([event], seq=1, timestamp=0))
        raw.publish(f"spBv1.0/{group}/DDATA/{other}/{other}", payload, qos=1).wait_for_publish(5)
        raw.disconnect()
        raw.loop_stop()
        time.sleep(1.0)
        assert stored(platform, other) == []
        with platform.database.read_session() as session:
            assert len(session.scalars(select(FieldEvent.id)).all()) == 10
    finally:
        if publisher is not None:
            publisher.stop()
        if worker is not None:
            worker.stop()
        broker.terminate()
        broker.wait(10)
        platform.database.dispose()
