"""``hengqi opcua``: serve scales over OPC UA for Scales (OPC 40200 v2.00); make password hashes for its users.

``hengqi opcua serve --scale URL [--scale URL …]`` prints the endpoint and one line per scale, then serves until
Ctrl-C (or ``--duration`` seconds).  asyncua is imported only when a command runs.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from hengqi.cli.app import EXIT_OK


@click.group("opcua")
def opcua() -> None:
    """OPC UA for Scales (OPC 40200): expose scales to MES/SCADA clients."""


@opcua.command("serve")
@click.option("--scale", "urls", multiple=True, metavar="URL", help="Instrument URL (repeat for several scales).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML file: scales with e, legal-for-trade and extension values; users (see docs/opcua.md).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=4840, show_default=True)
@click.option(
    "--pki",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for the server certificate and key [default: ~/.local/share/hengqi/opcua-pki].",
)
@click.option("--poll-interval", type=click.FloatRange(0.01, 60), default=0.1, show_default=True, help="Seconds.")
@click.option("--require-security", is_flag=True, help="Offer only Basic256Sha256 sign-and-encrypt, also on loopback.")
@click.option(
    "--trust",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder of trusted client certificates: other clients are refused on the secure endpoint.",
)
@click.option("--duration", type=click.FloatRange(0, None), default=None, help="Stop after this many seconds.")
def serve(  # noqa: PLR0917 - one parameter per click option
    urls: tuple[str, ...],
    config_path: Path | None,
    host: str,
    port: int,
    pki: Path | None,
    poll_interval: float,
    require_security: bool,
    trust: Path | None,
    duration: float | None,
) -> int:
    """Serve each scale as a SimpleScaleType object under DeviceSet."""
    from hengqi.opcua.config import ServerConfig, load_config, with_urls
    from hengqi.opcua.server import ScaleServer

    config = load_config(config_path) if config_path is not None else ServerConfig(())
    config = with_urls(config, urls)
    server = ScaleServer(
        config,
        host=host,
        port=port,
        pki=pki,
        poll_interval=poll_interval,
        require_security=require_security,
        trust=trust,
    )

    async def run() -> None:
        async with server:
            security = "anonymous (None)" if server.security.anonymous else ""
            if server.security.secure:
                security = (security + ", " if security else "") + "users (Basic256Sha256 SignAndEncrypt)"
            click.echo(f"endpoint {server.endpoint}  security: {security}")
            for bridge in server.bridges:
                click.echo(f"{bridge.options.name}  {bridge.scale.url}")
            sys.stdout.flush()
            if duration is None:
                await asyncio.Event().wait()
            else:
                await asyncio.sleep(duration)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except OSError as err:  # the port is taken or the address is not ours
        raise click.ClickException(f"cannot listen on {host}:{port}: {err.strerror or err}") from err
    return EXIT_OK


@opcua.command("hash-password")
def hash_password_command() -> int:
    """Read a password from standard input; print its argon2 hash for the users: section of --config."""
    from hengqi.opcua.security import hash_password

    password = sys.stdin.readline().rstrip("\r\n")
    click.echo(hash_password(password))
    return EXIT_OK


COMMANDS = (opcua,)
