"""The OPC UA server over a set of scales (``hengqi opcua serve``), and a thread to run it from blocking code.

:class:`ScaleServer` builds the address space (:mod:`hengqi.opcua.model`), adds one
:class:`~hengqi.opcua.bridge.ScaleBridge` per scale under ``DI:DeviceSet``, sets the security of
:mod:`hengqi.opcua.security` and polls each scale every ``poll_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from asyncua import Server, ua

from hengqi.instruments import Scale, open_scale
from hengqi.opcua.bridge import ScaleBridge
from hengqi.opcua.config import ScaleOptions, ServerConfig
from hengqi.opcua.extension import EXTENSION_VARIABLES
from hengqi.opcua.model import Types, add_declarations, build_types
from hengqi.opcua.security import (
    PasswordUserManager,
    SecuritySettings,
    client_certificate_validator,
    server_certificate,
    settings_for,
)

DEFAULT_PORT = 4840
DEFAULT_POLL_INTERVAL = 0.1


class ScaleServer:
    """The OPC UA server over a set of scales; use ``async with`` (or :meth:`start` / :meth:`stop`)."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        pki: Path | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        require_security: bool = False,
        trust: Path | None = None,
        scales: Sequence[Scale] | None = None,
    ) -> None:
        if not config.scales and not scales:
            from hengqi.errors import InputError

            raise InputError("--scale", "give at least one scale")
        self.config = config
        self.host = host
        self.port = port
        self.pki = pki or Path.home() / ".local" / "share" / "hengqi" / "opcua-pki"
        self.poll_interval = poll_interval
        self.trust = trust
        self.security: SecuritySettings = settings_for(host, config.users, require_security=require_security)
        self._given = list(scales) if scales is not None else None
        self.bridges: list[ScaleBridge] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._server: Server | None = None
        self._opened: list[Scale] = []

    @property
    def endpoint(self) -> str:
        """The endpoint URL clients connect to."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"opc.tcp://{host}:{self.port}/"

    async def start(self) -> None:
        """Open the scales, build the address space, and listen."""
        server = Server(user_manager=PasswordUserManager(self.config.users, anonymous=self.security.anonymous))
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("hengqi OPC UA for Scales")
        await server.set_application_uri("urn:hengqi:opcua:server")
        policies = []
        if self.security.anonymous:
            policies.append(ua.SecurityPolicyType.NoSecurity)
        if self.security.secure:
            policies.append(ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt)
            cert, key = await server_certificate(self.pki)
            await server.load_certificate(str(cert))
            await server.load_private_key(str(key))
            server.set_certificate_validator(await client_certificate_validator(self.trust))
        server.set_security_policy(policies)
        tokens: list[type] = []
        if self.security.anonymous:
            tokens.append(ua.AnonymousIdentityToken)
        if self.config.users:
            tokens.append(ua.UserNameIdentityToken)
        server.set_identity_tokens(tokens)
        types = await build_types(server)
        try:
            await self._add_scales(server, types)
            await add_declarations(types, EXTENSION_VARIABLES)
            await server.start()
        except BaseException:
            for scale in self._opened:
                await asyncio.to_thread(scale.close)
            self._opened = []
            raise
        self._server = server
        self._tasks = [asyncio.create_task(b.run(self.poll_interval)) for b in self.bridges]

    async def _add_scales(self, server: Server, types: Types) -> None:
        scales = self._given
        if scales is None:
            scales = []
            for options in self.config.scales:
                scale = await asyncio.to_thread(open_scale, options.url)
                scales.append(scale)
                self._opened.append(scale)
        names = [o.name for o in self.config.scales]
        for index, scale in enumerate(scales):
            options = (
                self.config.scales[index]
                if index < len(self.config.scales)
                else ScaleOptions(scale.url, f"Scale{index + 1}")
            )
            if options.name in names[:index]:
                options = ScaleOptions(options.url, f"Scale{index + 1}")
            bridge = ScaleBridge(server, types, scale, options)
            await bridge.build()
            await bridge.poll_once()
            self.bridges.append(bridge)

    async def stop(self) -> None:
        """Stop polling, stop listening, close the scales this server opened."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._server is not None:
            await self._server.stop()
            self._server = None
        for scale in self._opened:
            await asyncio.to_thread(scale.close)
        self._opened = []

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.stop()


class ServerThread:
    """A :class:`ScaleServer` run in a background thread with its own event loop (for blocking callers)."""

    def __init__(self, server: ScaleServer, *, start_timeout: float = 30.0) -> None:
        self.server = server
        self._start_timeout = start_timeout
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="hengqi-opcua-server", daemon=True)

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                await self.server.start()
            except BaseException as err:
                self._error = err
                self._ready.set()
                return
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                await self.server.stop()

        asyncio.run(main())

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(self._start_timeout):
            raise TimeoutError(f"the OPC UA server did not start within {self._start_timeout:g} s")
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
