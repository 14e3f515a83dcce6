"""Fixtures of the field tests: our own Mosquitto brokers (with per-device passwords and an ACL, or anonymous),
the system broker at 127.0.0.1:1883, platform databases on SQLite and PostgreSQL with registered field devices.
"""

from __future__ import annotations

import getpass
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from hengqi.server.db.engine import Database, make_engine
from hengqi.server.db.migrate import upgrade
from hengqi.server.db.models import Instrument, Organisation
from hengqi.server.field.broker import acl_text
from hengqi.server.field.devices import register_device

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SYSTEM_BROKER = ("127.0.0.1", 1883)
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Broker:
    """A Mosquitto we started on a free loopback port; :meth:`stop` and :meth:`start` keep its persistence."""

    folder: Path
    port: int
    users: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def url(self, user: str | None = None) -> str:
        if user is None:
            return f"mqtt://127.0.0.1:{self.port}"
        return f"mqtt://{user}:{self.users[user]}@127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.folder / "mosquitto.log").open("ab")
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.folder / "mosquitto.conf")], stdout=log, stderr=log)
        for _ in range(100):
            if port_open(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start: {(self.folder / 'mosquitto.log').read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
        """SIGKILL: no goodbye, no save; what it acknowledged since its last autosave is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def make_broker(folder: Path, *, acl: list[tuple[str, str]] | None = None, ingest_user: str = "ingest") -> Broker:
    """Write a config (persistent; with ``acl``: passwords and ACL for those (group, device) pairs) and start it."""
    folder.mkdir(parents=True, exist_ok=True)
    broker = Broker(folder, free_port())
    lines = [
        f"listener {broker.port} 127.0.0.1",
        "persistence true",
        f"persistence_location {folder}/",
        "autosave_interval 1",
        "max_queued_messages 100000",
        "log_dest stderr",
        f"user {getpass.getuser()}",  # as root, mosquitto would switch to a user who cannot read pytest's tmp folder
    ]
    if acl is None:
        lines.append("allow_anonymous true")
    else:
        passwd = folder / "passwd"
        users = [ingest_user, *(device for _group, device in acl)]
        for i, user in enumerate(users):
            broker.users[user] = secrets.token_hex(8)
            flags = ["-c"] if i == 0 else []
            subprocess.run([MOSQUITTO_PASSWD, "-b", *flags, str(passwd), user, broker.users[user]], check=True)
        (folder / "acl").write_text(acl_text(acl, ingest_user=ingest_user) + "\n")
        lines += ["allow_anonymous false", f"password_file {passwd}", f"acl_file {folder / 'acl'}"]
    (folder / "mosquitto.conf").write_text("\n".join(lines) + "\n")
    broker.start()
    return broker


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[list[Broker]]:
    made: list[Broker] = []
    yield made
    for broker in made:
        broker.stop()


@pytest.fixture
def system_broker() -> str:
    """The machine's Mosquitto (anonymous) at 127.0.0.1:1883, started by scripts/ensure-services.sh where absent."""
    assert port_open(SYSTEM_BROKER[1]), "no MQTT broker at 127.0.0.1:1883 (run scripts/ensure-services.sh)"
    return f"mqtt://{SYSTEM_BROKER[0]}:{SYSTEM_BROKER[1]}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"hengqi_field_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")  # type: ignore[arg-type]
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]


@dataclass
class Platform:
    database: Database
    tokens: dict[str, str]
    group: str


def make_platform(url: str, devices: list[str], *, group: str) -> Platform:
    """A migrated database with one organisation and one instrument + field device per device id."""
    database = Database(url)
    upgrade(database.engine)
    tokens: dict[str, str] = {}
    with database.write_session() as session:
        org = Organisation(name=f"Market authority {secrets.token_hex(4)}")
        session.add(org)
        session.flush()
        for device_id in devices:
            instrument = Instrument(
                organisation_id=org.id,
                make="Acme",
                model="R15",
                serial=device_id,
                accuracy_class="III",
                kind="single-interval",
                max_kg=Decimal(15),
                min_kg=Decimal("0.1"),
                e_kg=Decimal("0.005"),
                d_kg=Decimal("0.005"),
                ranges=[],
            )
            session.add(instrument)
            session.flush()
            _device, tokens[device_id] = register_device(
                session, organisation_id=org.id, instrument_id=instrument.id, device_id=device_id, group_id=group
            )
        session.commit()
    return Platform(database, tokens, group)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'hengqi.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
