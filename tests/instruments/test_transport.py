"""Transports: URL parsing, bounded reads (silence, partial lines, stray bytes), reconnect; real sockets and ptys."""

from __future__ import annotations

import os
import socket
import threading
import time
import tty

import pytest

from hengqi.errors import InputError
from hengqi.instruments.errors import (
    AddressError,
    ScaleReplyError,
    TransportClosed,
    TransportError,
    TransportTimeout,
)
from hengqi.instruments.transport import SerialTransport, TcpTransport, open_transport, parse_address


def test_serial_url_with_line_settings() -> None:
    address = parse_address("serial:///dev/ttyUSB0?baud=2400&bytesize=7&parity=E&stopbits=1&protocol=and")
    assert (address.target, address.baudrate, address.bytesize, address.parity, address.protocol) == (
        "/dev/ttyUSB0",
        2400,
        7,
        "E",
        "and",
    )
    assert parse_address("/dev/ttyS0").target == "/dev/ttyS0"
    assert parse_address("COM3").target == "COM3"


def test_tcp_and_pyserial_urls() -> None:
    tcp = parse_address("tcp://127.0.0.1:4001?protocol=mt-sics&timeout=0.5")
    assert (tcp.host, tcp.port, tcp.timeout, tcp.protocol) == ("127.0.0.1", 4001, 0.5, "mt-sics")
    sock = parse_address("socket://127.0.0.1:5000?protocol=sbi&logging=debug")
    assert sock.target == "socket://127.0.0.1:5000?logging=debug"
    assert sock.protocol == "sbi"
    assert parse_address("rfc2217://127.0.0.1:7000").target == "rfc2217://127.0.0.1:7000"
    assert parse_address("loop://").target == "loop://"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://x", "unknown scheme 'ftp'"),
        ("tcp://127.0.0.1", "needs a host and a port"),
        ("tcp://127.0.0.1:99999", "port"),
        ("serial:///dev/ttyUSB0?baud=fast", "baud='fast' is not a number"),
        ("serial:///dev/ttyUSB0?bytesize=9", "not allowed"),
        ("serial:///dev/ttyUSB0?parity=X", "parity"),
        ("serial:///dev/ttyUSB0?speed=9600", "unknown option 'speed'"),
        ("tcp://127.0.0.1:1?protocol=modbus", "unknown protocol 'modbus'"),
        ("", "empty"),
    ],
)
def test_bad_urls_name_the_url_and_the_problem(url: str, words: str) -> None:
    with pytest.raises(AddressError) as caught:
        parse_address(url)
    assert isinstance(caught.value, InputError)
    assert words in str(caught.value)
    if url:
        assert url in str(caught.value)


def test_connection_refused_and_missing_device_are_transport_errors() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    with pytest.raises(TransportError) as caught:
        open_transport(f"tcp://127.0.0.1:{port}")
    assert f"tcp://127.0.0.1:{port}" in str(caught.value)
    with pytest.raises(TransportError, match="/dev/does-not-exist"):
        open_transport("serial:///dev/does-not-exist")


def _server(handler):  # type: ignore[no-untyped-def]
    server = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        conn, _ = server.accept()
        with conn:
            handler(conn)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return server, thread


def test_lines_are_split_across_chunks_and_partial_lines_time_out() -> None:
    def handler(conn: socket.socket) -> None:
        conn.sendall(b"S S  ")
        time.sleep(0.05)
        conn.sendall(b"   1.0 g\r\nS D")
        time.sleep(0.5)

    server, thread = _server(handler)
    with server, open_transport(f"tcp://127.0.0.1:{server.getsockname()[1]}?timeout=0.2") as line:
        assert isinstance(line, TcpTransport)
        assert line.read_line() == b"S S     1.0 g"
        started = time.monotonic()
        with pytest.raises(TransportTimeout) as caught:
            line.read_line()
        assert caught.value.partial == b"S D"
        assert time.monotonic() - started < 1.0
    thread.join(2)


def test_stray_bytes_without_terminator_are_bounded() -> None:
    server, thread = _server(lambda conn: (conn.sendall(b"\xff" * 600), time.sleep(0.3)))
    with (
        server,
        open_transport(f"tcp://127.0.0.1:{server.getsockname()[1]}?timeout=1") as line,
        pytest.raises(ScaleReplyError, match="no line end"),
    ):
        line.read_line(max_length=512)
    thread.join(2)


def test_peer_close_is_transport_closed_and_reconnect_works() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def run() -> None:
        first, _ = server.accept()
        first.close()
        second, _ = server.accept()
        with second:
            second.sendall(b"hello\r\n")
            time.sleep(0.2)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    with server:
        line = open_transport(f"tcp://127.0.0.1:{port}?timeout=1")
        with pytest.raises(TransportClosed):
            line.read_line()
        assert not line.is_open
        line.reconnect()
        assert line.read_line() == b"hello"
        line.close()
    thread.join(2)


def test_loop_url_through_pyserial() -> None:
    with open_transport("loop://?timeout=0.2") as line:
        assert isinstance(line, SerialTransport)
        line.write(b"abc\r\ndef")
        assert line.read_line() == b"abc"
        with pytest.raises(TransportTimeout):
            line.read_line()
        assert line.read_exactly(0) == b""


def test_socket_url_through_pyserial() -> None:
    server, thread = _server(lambda conn: conn.sendall(conn.recv(100).upper()))
    with server, open_transport(f"socket://127.0.0.1:{server.getsockname()[1]}?timeout=1") as line:
        line.write(b"si\r\n")
        assert line.read_line() == b"SI"
    thread.join(2)


def test_pseudo_terminal_serial_port() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    try:
        with open_transport(f"serial://{path}?baud=9600&timeout=0.3") as line:
            line.write(b"S\r\n")
            assert os.read(master, 10) == b"S\r\n"
            os.write(master, b"S S   1.00 g\r\n")
            assert line.read_line() == b"S S   1.00 g"
            with pytest.raises(TransportTimeout):
                line.read_line()
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize("option", ["baud=٩٦٠٠", "timeout=١", "bytesize=８", "timeout=inf", "timeout=nan"])
def test_options_need_finite_numbers_in_ascii_digits(option: str) -> None:
    with pytest.raises(AddressError, match="option"):
        parse_address(f"tcp://127.0.0.1:4001?{option}")
