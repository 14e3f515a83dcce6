"""The server's instrument URL policy: schemes, devices, hosts, options and timeouts (the CLI keeps them all)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.server.conftest import INSTRUMENT, PASSWORD, Platform

from hengqi.errors import InputError
from hengqi.instruments.errors import AddressError
from hengqi.instruments.transport import parse_address
from hengqi.server.services.instrument_policy import check_url, host_allowed, parse_hosts

HOSTS = parse_hosts("127.0.0.1, 10.1.0.0/16, scale-1.lab.example")


@pytest.mark.parametrize(
    "url",
    [
        "spy:///dev/null?file=/tmp/hengqi-pwned",
        "spy://tcp://127.0.0.1:4001?file=/tmp/x",
        "loop://",
        "socket://127.0.0.1:4001",
        "alt:///dev/ttyUSB0?class=PosixPollSerial",
        "hwgrep://.*",
        "/dev/ttyUSB0",
        "COM3",
        "serial://spy:///dev/null?file=/tmp/x",
        "serial:///etc/passwd",
        "serial:///dev/../etc/passwd",
        "serial:///dev/null",
        "serial:///dev/sda",
        "serial:///dev/ttyDOES-NOT-EXIST9",
        "tcp://192.0.2.7:22",
        "tcp://10.2.0.1:4001",
        "tcp://scale-1.lab.example.evil.org:4001",
        "tcp://user:pw@127.0.0.1:4001",
        "tcp://127.0.0.1:4001/path",
        "tcp://127.0.0.1",
        "rfc2217://192.0.2.7:2217",
        "rfc2217://127.0.0.1:2217?logging=debug",
        "tcp://127.0.0.1:4001?timeout=inf",
        "tcp://127.0.0.1:4001?timeout=nan",
        "tcp://127.0.0.1:4001?timeout=-1",
        "tcp://127.0.0.1:4001?timeout=0",
        "tcp://127.0.0.1:4001?timeout=10.5",
        "tcp://127.0.0.1:4001?timeout=1e9",
        "tcp://127.0.0.1:4001?baud=\u0669\u0666\u0660\u0660",
        "tcp://127.0.0.1:4001\x00",
        "tcp://١٢٧.0.0.1:4001",
        "",
    ],
)
def test_urls_the_server_refuses(url: str) -> None:
    with pytest.raises(InputError) as caught:
        check_url(url, HOSTS)
    assert caught.value.path == "url"


def test_urls_the_server_accepts(tmp_path: Path) -> None:
    assert check_url("tcp://127.0.0.1:4001?protocol=mt-sics&timeout=10", HOSTS).timeout == 10
    assert check_url("tcp://10.1.200.3:4001", HOSTS).host == "10.1.200.3"
    assert check_url("rfc2217://SCALE-1.lab.example:2217", HOSTS).scheme == "rfc2217"
    leader, follower = os.openpty()  # a real serial-like device under /dev/pts
    try:
        device = os.ttyname(follower)
        assert check_url(f"serial://{device}?baud=9600", HOSTS).target == device
        link = tmp_path / "ttyLINK"
        link.symlink_to(device)
        with pytest.raises(InputError):  # a path outside /dev/ leading to a device is still refused
            check_url(f"serial://{link}", HOSTS)
    finally:
        os.close(leader)
        os.close(follower)


def test_an_empty_allow_list_allows_no_host() -> None:
    with pytest.raises(InputError, match="allow-list"):
        check_url("tcp://127.0.0.1:4001", ())


def test_host_allow_list_entries() -> None:
    assert parse_hosts(["::1", "fd00::/8", "127.0.0.1/32"]) == ("::1", "fd00::/8", "127.0.0.1")
    assert host_allowed("[::1]", parse_hosts("::1"))
    assert not host_allowed("127.0.0.2", parse_hosts("127.0.0.1"))
    for bad in ("http://x", "a b/c", "10.0.0.0/33", "bad_name.example", "主机.example", "x" * 254):
        with pytest.raises(InputError) as caught:
            parse_hosts([bad])
        assert caught.value.path == "instrument_hosts"


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "-1", "0"])
def test_non_finite_timeouts_are_refused_by_the_cli_too(value: str) -> None:
    with pytest.raises(AddressError, match="timeout"):
        parse_address(f"loop://?timeout={value}")


def test_the_host_allow_list_is_set_by_administrators_only(platform: Platform) -> None:
    org = platform.organisation("A")
    _, admin = platform.user("root", "admin", org)
    _, manager = platform.user("quinn", "quality-manager", org)
    path = f"/api/v1/organisations/{org}"
    assert platform.client.get(path, headers=admin).json()["instrument_hosts"] == []
    refused = platform.client.patch(path, json={"instrument_hosts": ["0.0.0.0/0"]}, headers=manager)
    assert refused.status_code == 403
    for bad in (["http://x"], ["10.0.0.0/99"], "127.0.0.1", [["nested"]], ["a"] * 101):
        answer = platform.client.patch(path, json={"instrument_hosts": bad}, headers=admin)
        assert answer.status_code == 422, bad
    done = platform.client.patch(
        path, json={"instrument_hosts": ["192.0.2.10", "10.1.0.0/16", "Scale.lab"]}, headers=admin
    )
    assert done.status_code == 200
    assert done.json()["instrument_hosts"] == ["192.0.2.10", "10.1.0.0/16", "scale.lab"]
    assert platform.client.get(path, headers=admin).json()["instrument_hosts"] == [
        "192.0.2.10",
        "10.1.0.0/16",
        "scale.lab",
    ]
    made = platform.client.post("/api/v1/organisations", json={"name": "B", "instrument_hosts": ["::1"]}, headers=admin)
    assert made.status_code == 201
    assert made.json()["instrument_hosts"] == ["::1"]


def test_a_url_stored_before_the_policy_is_never_opened(platform: Platform, tmp_path: Path) -> None:
    from hengqi.server.db.guided import InstrumentConnection

    org = platform.organisation("A")
    _, manager = platform.user("quinn", "quality-manager", org)
    made = platform.client.post("/api/v1/instruments", json=INSTRUMENT, headers=manager)
    assert made.status_code == 201
    target = tmp_path / "pwned.log"
    with platform.database.write_session() as session:  # as an older version let anyone store it
        session.add(InstrumentConnection(instrument_id=made.json()["id"], url=f"spy:///dev/null?file={target}"))
        session.commit()
    login = platform.client.post("/api/v1/auth/login", json={"username": "quinn", "password": PASSWORD})
    assert login.status_code == 200
    answer = platform.client.get(f"/web/instruments/{made.json()['id']}/reading")
    assert answer.status_code == 200
    assert answer.json()["ok"] is False
    assert "spy" in answer.json()["reason"]
    assert not target.exists()
