"""Transcript testing over a real loopback socket (pymeasure ``expected_protocol`` style).

:class:`ScriptedDevice` listens on 127.0.0.1 and plays a list of ``(expected bytes from the client, reply bytes)``
pairs: it reads exactly the expected bytes, records a mismatch if they differ, and sends the reply.  The test then
checks :attr:`ScriptedDevice.problems` is empty and that every pair was used.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence
from types import TracebackType

Pair = tuple[bytes, bytes]


class ScriptedDevice:
    def __init__(self, pairs: Sequence[Pair]) -> None:
        self.pairs = list(pairs)
        self.problems: list[str] = []
        self.used = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(5)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self._server.getsockname()[1]}"

    def _run(self) -> None:
        try:
            conn, _ = self._server.accept()
        except OSError:
            return
        conn.settimeout(5)
        with conn:
            for expected, reply in self.pairs:
                received = b""
                try:
                    while len(received) < len(expected):
                        chunk = conn.recv(len(expected) - len(received))
                        if not chunk:
                            break
                        received += chunk
                except OSError as err:
                    self.problems.append(f"waiting for {expected!r}: {err}")
                    return
                if received != expected:
                    self.problems.append(f"expected {expected!r}, got {received!r}")
                    return
                if reply:
                    conn.sendall(reply)
                self.used += 1
            try:  # keep the line open (silent) until the client hangs up
                while chunk := conn.recv(4096):
                    self.problems.append(f"unexpected {chunk!r} after the script")
            except OSError:
                pass

    def close(self) -> None:
        self._thread.join(timeout=5)  # the client has hung up (or never came: accept times out)
        self._server.close()

    def __enter__(self) -> ScriptedDevice:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def assert_done(self) -> None:
        assert not self.problems, self.problems
        assert self.used == len(self.pairs), f"only {self.used} of {len(self.pairs)} exchanges happened"
