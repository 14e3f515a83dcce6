"""A scale that speaks OPC UA for Scales (OPC 40200 v2.00): the ``opc.tcp://…?protocol=opcua-scales`` driver.

The names below are the browse names of the companion specification *OPC 40200 — OPC UA for Weighing Technology*,
version 2.00 (2025-03-01), namespace ``http://opcfoundation.org/UA/Scales/V2/``, as published in its tables on
reference.opcfoundation.org (Table 20 ScaleDeviceType, Table 25 WeighingRangeElementType, Table 142
MeasuredItemType, Table 143 WeightItemType, Tables 145/146 PrintableWeightType, Tables 147/148 WeightType, Table 156
TareMode; Methods 7.4.5 RegisterWeight, 7.4.7 SetZero, 7.4.8 SetTare).  The server side (``hengqi opcua serve``) is
:mod:`hengqi.opcua`; this module is the client side, so that hengqi reads, verifies and calibrates scales that
speak OPC UA through the one :class:`~hengqi.instruments.scale.Scale` interface.

``asyncua`` is imported only when a driver is opened: ``hengqi scale --help`` stays light.  The driver runs an
asyncio loop in one worker thread and calls into it from the blocking Scale methods.

Units: the ``EngineeringUnits`` of ``CurrentWeight`` (OPC 10000-8, 5.6.3 EUInformation) use the UNECE
Recommendation 20 common codes in the namespace ``http://www.opcfoundation.org/UA/units/un/cefact``; the UnitId of
a code of up to three characters is the characters' ASCII values packed big-endian into an Int32 (OPC 10000-8,
5.6.3).

>>> unit_id("KGM"), UNECE_CODES["g"]
(4933453, 'GRM')
>>> symbol_of_unit_id(unit_id("MGM"))
'mg'
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final, TypeVar

from hengqi.instruments.errors import (
    ProtocolMismatchError,
    ScaleCommandError,
    ScaleError,
    ScaleLogicalError,
    ScaleNotExecutableError,
    ScaleNotSupportedError,
    ScaleOverloadError,
    ScaleRangeError,
    ScaleUnderloadError,
    ScaleUnstableError,
    TransportClosed,
    TransportError,
    TransportTimeout,
)
from hengqi.instruments.reading import Identity, Reading, reading_from_text
from hengqi.instruments.scale import DEFAULT_STABILITY_TIMEOUT, Scale
from hengqi.instruments.transport import OPCUA_PROTOCOL, Address, parse_address

if TYPE_CHECKING:  # pragma: no cover - typing only
    from asyncua import Client, Node

T = TypeVar("T")

#: OPC 40200 v2.00 namespace URI.
SCALES_NS: Final = "http://opcfoundation.org/UA/Scales/V2/"
#: OPC 10000-100 (Devices, DI) namespace URI: DeviceSet, ComponentType and the nameplate properties.
DI_NS: Final = "http://opcfoundation.org/UA/DI/"
#: OPC 40001-1 (Machinery) namespace URI: the Identification add-in of ScaleDeviceType (Table 20).
MACHINERY_NS: Final = "http://opcfoundation.org/UA/Machinery/"
#: OPC 10000-8 5.6.3: namespace of EUInformation built from UNECE Recommendation 20 codes.
UNECE_NS: Final = "http://www.opcfoundation.org/UA/units/un/cefact"

#: Printed mass-unit symbols and their UNECE Recommendation 20 common codes (Annex I: KGM kilogram, GRM gram,
#: MGM milligram, TNE tonne, LBR pound, ONZ ounce (avoirdupois), CTM carat (metric)).
UNECE_CODES: Final[dict[str, str]] = {
    "kg": "KGM",
    "g": "GRM",
    "mg": "MGM",
    "t": "TNE",
    "lb": "LBR",
    "oz": "ONZ",
    "ct": "CTM",
}


def unit_id(code: str) -> int:
    """The EUInformation UnitId of a UNECE common code (OPC 10000-8, 5.6.3: the code's bytes, big-endian)."""
    value = 0
    for char in code.encode("ascii"):
        value = (value << 8) | char
    return value


def symbol_of_unit_id(value: int) -> str | None:
    """The printed symbol of a UnitId from :data:`UNECE_CODES`, or None for a unit not listed there."""
    for symbol, code in UNECE_CODES.items():
        if unit_id(code) == value:
            return symbol
    return None


class _LoopThread:
    """One asyncio loop in a daemon thread; :meth:`run` runs a coroutine there and waits for its result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="hengqi-opcua-client", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self.loop.close()


class OpcUaScale(Scale):
    """A scale object (an instance of a ScaleDeviceType subtype) on an OPC UA server.

    ``read`` reads ``CurrentWeight`` (its ``PrintableValue`` keeps the digits as displayed, so the display
    resolution survives; without it the Double ``Net`` is used) with ``WeightStable``, ``Overload`` and
    ``Underload``; ``zero``, ``tare`` and ``clear_tare`` call ``SetZero``, ``SetTare`` and ``ClearTare``.  The
    scale object is the one named ``?scale=BrowseName``, or the only ScaleDeviceType instance in ``DeviceSet``.
    Credentials (for a server that refuses anonymous sessions) are given as ``user`` and ``password``; the
    session is then Basic256Sha256 sign-and-encrypt with a client certificate generated in memory.
    """

    protocol = OPCUA_PROTOCOL
    protocol_title = "OPC UA for Scales"

    def __init__(
        self,
        address: Address | str,
        *,
        stability_timeout: float = DEFAULT_STABILITY_TIMEOUT,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        # No byte transport: Scale.__init__ is not called; the lock and timeout are set here, url/close overridden.
        self.address = address if isinstance(address, Address) else parse_address(address)
        self.stability_timeout = stability_timeout
        self._lock = threading.RLock()
        self._user = user
        self._password = password
        self._loop: _LoopThread | None = None
        self._client: Client | None = None
        self._node: Node | None = None
        self._ns = 0
        self._di = 0
        #: BrowseName of the scale object in use.
        self.scale_name = ""
        self.open()

    @property
    def url(self) -> str:
        return self.address.url

    # -- connection ---------------------------------------------------------------------------------------------

    def _run(self, coroutine: Coroutine[Any, Any, T], what: str) -> T:
        from asyncua import ua

        if self._loop is None:
            coroutine.close()
            raise TransportClosed(self.url, "the OPC UA session is closed")
        try:
            return self._loop.run(coroutine, self.address.timeout + 5)
        except ScaleError:
            raise
        except TimeoutError as err:
            raise TransportTimeout(self.url, f"no OPC UA reply to {what} within {self.address.timeout:g} s") from err
        except ua.UaStatusCodeError as err:
            raise _command_error(self.url, what, err) from err
        except (OSError, ConnectionError, asyncio.CancelledError, ua.UaError) as err:
            raise TransportError(self.url, f"OPC UA {what} failed: {err or type(err).__name__}") from err

    def open(self) -> None:
        """Connect, load the server's data types and find the scale object."""
        with self._lock:
            if self._client is not None:
                return
            self._loop = _LoopThread()
            try:
                self._run(self._connect(), "connect")
            except BaseException:
                self._loop.stop()
                self._loop = None
                self._client = None
                raise

    async def _connect(self) -> None:
        from asyncua import Client, ua

        client = Client(url=self.address.target, timeout=self.address.timeout)
        client.application_uri = CLIENT_APPLICATION_URI
        if self._user is not None:
            from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256

            client.set_user(self._user)
            client.set_password(self._password or "")
            cert, key = _client_certificate()
            await client.set_security(
                SecurityPolicyBasic256Sha256, cert, key, mode=ua.MessageSecurityMode.SignAndEncrypt
            )
        try:
            await client.connect()
        except (TimeoutError, OSError) as err:
            raise TransportError(self.url, f"cannot connect: {err or type(err).__name__}") from err
        except ua.UaError as err:
            raise TransportError(self.url, f"the OPC UA server refused the session: {err}") from err
        self._client = client
        try:
            namespaces = await client.get_namespace_array()
            if SCALES_NS not in namespaces:
                raise ProtocolMismatchError(self.url, f"the OPC UA server has no {SCALES_NS} namespace")
            self._ns = namespaces.index(SCALES_NS)
            self._di = namespaces.index(DI_NS) if DI_NS in namespaces else 0
            await client.load_data_type_definitions()
            self._node = await self._find_scale(client)
        except BaseException:
            await client.disconnect()
            self._client = None
            raise

    async def _is_scale_type(self, client: Client, type_id: Any) -> bool:
        from asyncua import ua

        node = client.get_node(type_id)
        for _ in range(16):
            name = await node.read_browse_name()
            if name.NamespaceIndex == self._ns and name.Name == "ScaleDeviceType":
                return True
            parents = await node.get_references(refs=ua.ObjectIds.HasSubtype, direction=ua.BrowseDirection.Inverse)
            if not parents:
                return False
            node = client.get_node(parents[0].NodeId)
        return False

    async def _find_scale(self, client: Client) -> Node:
        from asyncua import ua

        wanted = dict(self.address.passthrough).get("scale")
        roots = [client.nodes.objects]
        with contextlib.suppress(ua.UaError):
            roots.insert(0, await client.nodes.objects.get_child(f"{self._di}:DeviceSet"))
        found: list[Node] = []
        for root in roots:
            for child in await root.get_children(refs=ua.ObjectIds.HierarchicalReferences):
                if await child.read_node_class() != ua.NodeClass.Object:
                    continue
                type_id = await child.read_type_definition()
                if type_id is None or not await self._is_scale_type(client, type_id):
                    continue
                name = (await child.read_browse_name()).Name
                if wanted is None or name == wanted:
                    found.append(child)
            if found:
                break
        names = sorted({(await n.read_browse_name()).Name for n in found})
        if not found:
            which = f" named {wanted!r}" if wanted else ""
            raise ProtocolMismatchError(self.url, f"the OPC UA server exposes no ScaleDeviceType object{which}")
        if len(found) > 1:
            raise ProtocolMismatchError(
                self.url, f"the OPC UA server exposes several scales ({', '.join(names)}): name one with ?scale="
            )
        self.scale_name = names[0]
        return found[0]

    def close(self) -> None:
        with self._lock:
            client, loop = self._client, self._loop
            self._client = None
            self._node = None
            if loop is None:
                return
            try:
                if client is not None:
                    loop.run(client.disconnect(), self.address.timeout + 2)
            except Exception:
                pass
            finally:
                loop.stop()
                self._loop = None

    def reconnect(self) -> None:
        with self._lock:
            self.close()
            self.open()

    # -- the Scale interface -------------------------------------------------------------------------------------

    def _scale_node(self) -> Node:
        if self._node is None:
            self.open()
        assert self._node is not None
        return self._node

    def _q(self, name: str) -> str:
        return f"{self._ns}:{name}"

    async def _read_weight(self, node: Node) -> tuple[Any, dict[str, Any]]:
        weight = await node.get_child(self._q("CurrentWeight"))
        value = await weight.read_value()
        props: dict[str, Any] = {}
        for child in await weight.get_properties():
            name = await child.read_browse_name()
            try:
                props[name.Name] = await child.read_value()
            except Exception:
                continue
        return value, props

    def read(self, stable: bool = True) -> Reading:
        deadline = time.monotonic() + self.stability_timeout
        while True:
            with self._lock:
                value, props = self._run(self._read_weight(self._scale_node()), "read CurrentWeight")
            if props.get("Overload"):
                raise ScaleOverloadError(self.url, "read CurrentWeight", "Overload = true")
            if props.get("Underload"):
                raise ScaleUnderloadError(self.url, "read CurrentWeight", "Underload = true")
            reading = self._reading(value, props)
            if reading.stable or not stable:
                return reading
            if time.monotonic() > deadline:
                raise ScaleUnstableError(self.url, "read CurrentWeight", "WeightStable = false")
            time.sleep(0.05)

    def _reading(self, value: Any, props: dict[str, Any]) -> Reading:
        units = props.get("EngineeringUnits")
        unit = "" if units is None else (symbol_of_unit_id(int(units.UnitId)) or str(units.DisplayName.Text or ""))
        printable = props.get("PrintableValue")
        text = getattr(printable, "Net", None) if printable is not None else None
        if not text:
            text = repr(float(value.Net))
        tare = float(getattr(value, "Tare", 0.0) or 0.0)
        raw = f"Gross={value.Gross!r} Net={value.Net!r} Tare={value.Tare!r} {unit}"
        try:
            return reading_from_text(
                str(text), unit, stable=bool(props.get("WeightStable", True)), raw=raw, net=tare != 0.0
            )
        except (ValueError, InvalidOperation) as err:
            raise ProtocolMismatchError(self.url, f"CurrentWeight is not a number: {text!r}") from err

    def _call(self, method: str) -> None:
        async def call() -> None:
            node = self._scale_node()
            target = await node.get_child(self._q(method))
            await node.call_method(target)

        with self._lock:
            self._run(call(), method)

    def zero(self) -> None:
        self._call("SetZero")

    def tare(self) -> None:
        self._call("SetTare")

    def clear_tare(self) -> None:
        self._call("ClearTare")

    def register_weight(self) -> Reading:
        """Call ``RegisterWeight`` (7.4.5) and read the ``RegisteredWeight`` it produced."""

        async def call() -> tuple[Any, dict[str, Any]]:
            node = self._scale_node()
            await node.call_method(await node.get_child(self._q("RegisterWeight")))
            registered = await node.get_child(self._q("RegisteredWeight"))
            value = await registered.read_value()
            props = {}
            for child in await registered.get_properties():
                props[(await child.read_browse_name()).Name] = await child.read_value()
            return value, props

        with self._lock:
            value, props = self._run(call(), "RegisterWeight")
        return self._reading(value, props)

    def identify(self) -> Identity:
        async def read() -> Identity:
            node = self._scale_node()
            fields: dict[str, str | None] = {}
            for name in ("Manufacturer", "Model", "SerialNumber", "SoftwareRevision"):
                try:
                    text = await (await node.get_child(f"{self._di}:{name}")).read_value()
                except Exception:
                    text = None
                fields[name] = None if text is None else str(getattr(text, "Text", text))
            capacity = d = None
            for child in await node.get_children():
                if await child.read_type_definition() is None:
                    continue
                type_name = await self._client_type_name(child)
                if type_name != "WeighingRangeElementType":
                    continue
                rng = await (await child.get_child(self._q("Range"))).read_value()
                eu = await (await child.get_child([self._q("Range"), "0:EngineeringUnits"])).read_value()
                step = await (await child.get_child(self._q("ActualScaleInterval"))).read_value()
                symbol = symbol_of_unit_id(int(eu.UnitId))
                size = None if symbol is None else _kg_per(symbol)
                if size is not None:
                    high = _exact(rng.High) * size
                    capacity = high if capacity is None else max(capacity, high)
                    small = _exact(step) * size
                    d = small if d is None else min(d, small)
            return Identity(
                protocol=self.protocol,
                make=fields["Manufacturer"],
                model=fields["Model"],
                serial=fields["SerialNumber"],
                software=fields["SoftwareRevision"],
                capacity_kg=capacity,
                d_kg=d,
                d_source=None if d is None else "ActualScaleInterval",
            )

        with self._lock:
            return self._run(read(), "identify")

    async def _client_type_name(self, node: Node) -> str | None:
        assert self._client is not None
        type_id = await node.read_type_definition()
        if type_id is None:
            return None
        return str((await self._client.get_node(type_id).read_browse_name()).Name)


def _exact(value: float) -> Decimal:
    """A Double as the shortest decimal that round-trips (0.001 stays 0.001)."""
    return Decimal(repr(float(value)))


def _kg_per(symbol: str) -> Decimal | None:
    from hengqi.instruments.reading import unit_size_kg

    return unit_size_kg(symbol)


def _command_error(url: str, what: str, err: Any) -> ScaleError:
    """Map a Bad status of a method call to the instrument layer's typed errors."""
    from asyncua.ua import StatusCodes

    code = getattr(err, "code", None)
    reply = f"{type(err).__name__} ({err})"
    kinds: dict[int, type[ScaleCommandError]] = {
        StatusCodes.BadNotSupported: ScaleNotSupportedError,
        StatusCodes.BadNotImplemented: ScaleNotSupportedError,
        StatusCodes.BadMethodInvalid: ScaleNotSupportedError,
        StatusCodes.BadNoMatch: ScaleNotSupportedError,
        StatusCodes.BadBrowseNameInvalid: ScaleNotSupportedError,
        StatusCodes.BadInvalidState: ScaleNotExecutableError,
        StatusCodes.BadOutOfRange: ScaleRangeError,
        StatusCodes.BadUserAccessDenied: ScaleLogicalError,
    }
    kind = kinds.get(code) if isinstance(code, int) else None
    if kind is None:
        return TransportError(url, f"OPC UA {what} failed: {reply}")
    return kind(url, what, reply)


#: The ApplicationUri of hengqi's OPC UA client (also in its certificate's subjectAltName, OPC 10000-6 6.2.2).
CLIENT_APPLICATION_URI: Final = "urn:hengqi:opcua:client"


def _client_certificate() -> tuple[bytes, bytes]:
    """A self-signed client application certificate and its key (both DER), made in memory for one session."""
    import socket

    from asyncua.crypto import cert_gen
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = cert_gen.generate_private_key()
    cert = cert_gen.generate_self_signed_app_certificate(
        key,
        "hengqi OPC UA client",
        {},
        [x509.UniformResourceIdentifier(CLIENT_APPLICATION_URI), x509.DNSName(socket.gethostname())],
        [ExtendedKeyUsageOID.CLIENT_AUTH],
    )
    return cert.public_bytes(Encoding.DER), key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
