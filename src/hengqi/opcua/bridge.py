"""One scale as a SimpleScaleType object: built, polled, and its methods called through to the scale.

:class:`ScaleBridge` adds one scale's object under ``DI:DeviceSet`` and polls the scale (every ``poll_interval``
seconds of :class:`~hengqi.opcua.server.ScaleServer`); a changed indication is written to ``CurrentWeight`` (and
its properties), so subscriptions deliver it.  ``SetZero``, ``SetTare``, ``ClearTare`` and ``RegisterWeight`` call
through to the scale (OPC 40200 v2.00, 7.4.5-7.4.8); a refusal of the scale becomes a Bad status of the call
(``BadInvalidState`` for unstable/not executable, ``BadOutOfRange`` outside the zero-setting range,
``BadNotSupported`` where the protocol has no such command, ``BadCommunicationError`` for a broken line).

Gross, net and tare (WeightType, Tables 147/148): the displayed value is the net value while a tare is set.  Where
the protocol reports the stored tare (MT-SICS ``TA``) it is read after each ``SetTare``; otherwise the bridge
tracks the tare it set (the indication just before taring, added to any earlier tare).  A tare set at the
instrument's own keys is not seen by a protocol that reports neither a net flag nor the tare; the bridge then
shows gross = net.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from asyncua import Node, Server, ua

from hengqi.instruments import Identity, Reading, Scale
from hengqi.instruments.errors import (
    ScaleCommandError,
    ScaleError,
    ScaleNotExecutableError,
    ScaleNotSupportedError,
    ScaleOverloadError,
    ScaleRangeError,
    ScaleUnderloadError,
)
from hengqi.instruments.reading import unit_size_kg
from hengqi.opcua.config import ScaleOptions
from hengqi.opcua.extension import add_extension
from hengqi.opcua.model import (
    TARE_MODE_MEASURED,
    TARE_MODE_NONE,
    Types,
    add_property,
    add_typed_variable,
    eu_information,
)

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class _State:
    """The last values written, so that only changes are published."""

    gross: float | None = None
    net: float | None = None
    tare: float | None = None
    stable: bool | None = None
    unit: str | None = None
    overload: bool = False
    underload: bool = False
    status: int = ua.StatusCodes.Good
    tare_value: Decimal = Decimal(0)
    tare_text: str = "0"
    registered: int = 0
    nodes: dict[str, Node] = field(default_factory=dict)


def _status_of(err: ScaleError) -> int:
    if isinstance(err, ScaleNotSupportedError):
        return int(ua.StatusCodes.BadNotSupported)
    if isinstance(err, ScaleRangeError):
        return int(ua.StatusCodes.BadOutOfRange)
    if isinstance(err, ScaleNotExecutableError | ScaleCommandError):
        return int(ua.StatusCodes.BadInvalidState)
    return int(ua.StatusCodes.BadCommunicationError)


class ScaleBridge:
    """One scale and its SimpleScaleType object."""

    def __init__(self, server: Server, types: Types, scale: Scale, options: ScaleOptions) -> None:
        self.server = server
        self.types = types
        self.scale = scale
        self.options = options
        self.node: Node | None = None
        self._lock = asyncio.Lock()
        self._state = _State()
        self._capacity_kg: Decimal | None = None

    async def _blocking(self, action: Callable[[], Any]) -> Any:
        async with self._lock:
            return await asyncio.to_thread(action)

    # -- building the object ------------------------------------------------------------------------------------

    async def build(self) -> Node:
        """Add the scale object with its mandatory nodes, the optional ones used, the methods and the extension."""
        t, ns = self.types, self.types.ns
        try:
            identity: Identity = await self._blocking(self.scale.identify)
        except ScaleError as err:
            _log.warning("%s: identification failed (%s); nameplate left empty", self.scale.url, err)
            identity = Identity(protocol=getattr(self.scale, "protocol", ""))
        name = self.options.name
        node: Node = await t.device_set.add_object(
            ua.NodeId(name, ns.hengqi), ua.QualifiedName(name, ns.hengqi), objecttype=t.simple_scale_type.nodeid
        )
        self.node = node
        # DI nameplate properties made Mandatory by ScaleDeviceType (Table 20).
        await add_property(node, ns.di, "Manufacturer", ua.LocalizedText(identity.make or ""))
        await add_property(node, ns.di, "Model", ua.LocalizedText(identity.model or ""))
        await add_property(node, ns.di, "SerialNumber", identity.serial or "", ua.VariantType.String)
        await add_property(node, ns.di, "SoftwareRevision", identity.software or "", ua.VariantType.String)
        await add_property(node, ns.di, "HardwareRevision", "", ua.VariantType.String)
        await add_property(node, ns.di, "DeviceClass", "Scale", ua.VariantType.String)
        ident = await node.add_object(
            ua.NodeId(f"{name}.Identification", ns.hengqi),
            ua.QualifiedName("Identification", ns.di),
            objecttype=t.identification_type.nodeid,
        )
        await node.delete_reference(ident, ua.ObjectIds.HasComponent, forward=True, bidirectional=True)
        await node.add_reference(ident, ua.ObjectIds.HasAddIn, forward=True, bidirectional=True)
        await add_property(ident, ns.di, "Manufacturer", ua.LocalizedText(identity.make or ""))
        await add_property(ident, ns.di, "Model", ua.LocalizedText(identity.model or ""))
        await add_property(ident, ns.di, "SerialNumber", identity.serial or "", ua.VariantType.String)

        self._state.nodes["current"] = await self._weight_item(node, "CurrentWeight")
        self._state.nodes["registered"] = await self._weight_item(node, "RegisteredWeight")
        self._state.nodes["weight_id"] = await add_property(
            self._state.nodes["registered"], ns.scales, "WeightId", "", ua.VariantType.String
        )
        await self._weighing_range(node, identity)
        for method, action in (
            ("SetZero", self._set_zero),
            ("SetTare", self._set_tare),
            ("ClearTare", self._clear_tare),
            ("RegisterWeight", self._register_weight),
        ):
            await node.add_method(
                ua.NodeId(f"{name}.{method}", ns.hengqi),
                ua.QualifiedName(method, ns.scales),
                _method(node.nodeid, action),
                [],
                [],
            )
        await add_extension(node, ns.hengqi, t.extension_type, self.options)
        return node

    async def _weight_item(self, parent: Node, name: str) -> Node:
        t, ns = self.types, self.types.ns
        weight = t.weight_class(Gross=0.0, Net=0.0, Tare=0.0)
        item = await add_typed_variable(
            parent,
            ua.NodeId(f"{parent.nodeid.Identifier}.{name}", ns.hengqi),
            name=ua.QualifiedName(name, ns.scales),
            value=ua.Variant(weight, ua.VariantType.ExtensionObject),
            data_type=t.weight_type.nodeid,
            type_def=t.weight_item_type.nodeid,
        )
        # Table 142 (MeasuredItemType) and Table 143 (WeightItemType).
        props = {
            "units": await add_property(item, 0, "EngineeringUnits", eu_information("")),
            "eurange": await add_property(item, 0, "EURange", ua.Range(Low=0.0, High=0.0)),
            "overload": await add_property(item, ns.scales, "Overload", False, ua.VariantType.Boolean),
            "underload": await add_property(item, ns.scales, "Underload", False, ua.VariantType.Boolean),
            "tare_mode": await add_property(item, ns.scales, "TareMode", TARE_MODE_NONE, ua.VariantType.Int32),
            "stable": await add_property(item, ns.scales, "WeightStable", False, ua.VariantType.Boolean),
            "legal": await add_property(
                item, ns.scales, "LegalForTrade", self.options.legal_for_trade, ua.VariantType.Boolean
            ),
            "printable": await add_property(
                item,
                ns.scales,
                "PrintableValue",
                ua.Variant(t.printable_class(Gross="0", Net="0", Tare="0"), ua.VariantType.ExtensionObject),
            ),
            "gross": await add_property(item, ns.scales, "Gross", 0.0, ua.VariantType.Double),
            "net": await add_property(item, ns.scales, "Net", 0.0, ua.VariantType.Double),
            "tare": await add_property(item, ns.scales, "Tare", 0.0, ua.VariantType.Double),
        }
        await _set_data_type(props["tare_mode"], t.tare_mode.nodeid)
        await _set_data_type(props["printable"], t.printable_weight_type.nodeid)
        for key, prop in props.items():
            self._state.nodes[f"{name}.{key}"] = prop
        return item

    async def _weighing_range(self, parent: Node, identity: Identity) -> None:
        """One WeighingRangeElementType object (Table 25), in kg: Max, d and e as known."""
        t, ns = self.types, self.types.ns
        base = f"{self.options.name}.WeighingRange1"
        element = await parent.add_object(
            ua.NodeId(base, ns.hengqi), ua.QualifiedName("WeighingRange1", ns.scales), objecttype=t.range_type.nodeid
        )
        kg = eu_information("kg")
        rng = await add_typed_variable(
            element,
            ua.NodeId(f"{base}.Range", ns.hengqi),
            name=ua.QualifiedName("Range", ns.scales),
            value=ua.Variant(ua.Range(Low=0.0, High=float(identity.capacity_kg or 0)), ua.VariantType.ExtensionObject),
            data_type=ua.NodeId(ua.ObjectIds.Range),
            type_def=ua.NodeId(ua.ObjectIds.BaseDataVariableType),
        )
        await add_property(rng, 0, "EngineeringUnits", kg)
        if identity.capacity_kg is None:
            await _bad(rng, ua.StatusCodes.BadConfigurationError)
        for name, value in (("ActualScaleInterval", identity.d_kg), ("VerificationScaleInterval", self.options.e_kg)):
            var = await add_typed_variable(
                element,
                ua.NodeId(f"{base}.{name}", ns.hengqi),
                name=ua.QualifiedName(name, ns.scales),
                value=ua.Variant(float(value or 0), ua.VariantType.Double),
                data_type=ua.NodeId(ua.ObjectIds.Double),
                type_def=ua.NodeId(ua.ObjectIds.AnalogUnitType),
            )
            await add_property(var, 0, "EngineeringUnits", kg)
            if value is None:  # not reported by the instrument nor configured: no invented number
                await _bad(var, ua.StatusCodes.BadConfigurationError)
        self._capacity_kg = identity.capacity_kg

    # -- polling ------------------------------------------------------------------------------------------------

    async def poll_once(self) -> None:
        """Read the scale once and publish what changed."""
        state = self._state
        try:
            reading: Reading = await self._blocking(lambda: self.scale.read(stable=False))
        except (ScaleOverloadError, ScaleUnderloadError) as err:
            over = isinstance(err, ScaleOverloadError)
            await self._write_flags("CurrentWeight", overload=over, underload=not over)
            return
        except ScaleError as err:
            if state.status != ua.StatusCodes.BadCommunicationError:
                _log.warning("%s: %s", self.scale.url, err)
                state.status = ua.StatusCodes.BadCommunicationError
                await _bad(state.nodes["current"], ua.StatusCodes.BadCommunicationError)
            return
        await self._write_flags("CurrentWeight", overload=False, underload=False)
        await self._publish("CurrentWeight", reading, state)
        state.status = ua.StatusCodes.Good

    def _weights(self, reading: Reading) -> tuple[float, float, float, str, str, str]:
        tare = self._state.tare_value if self._state.tare_value else Decimal(0)
        if reading.net is False:  # the instrument says gross: no tare in effect
            tare = Decimal(0)
        net = reading.value
        gross = net + tare
        tare_text = self._state.tare_text if tare else "0"
        return float(gross), float(net), float(tare), str(gross), _text(reading), tare_text

    async def _publish(self, key: str, reading: Reading, state: _State, *, force: bool = False) -> None:
        gross, net, tare, gross_text, net_text, tare_text = self._weights(reading)
        nodes = state.nodes
        if key == "CurrentWeight" and not force:
            same = (gross, net, tare, reading.stable, reading.unit) == (
                state.gross,
                state.net,
                state.tare,
                state.stable,
                state.unit,
            )
            if same and state.status == ua.StatusCodes.Good:
                return
            state.gross, state.net, state.tare, state.stable = gross, net, tare, reading.stable
        target = nodes["current" if key == "CurrentWeight" else "registered"]
        if key == "CurrentWeight":
            state.unit = reading.unit
        await nodes[f"{key}.units"].write_value(eu_information(reading.unit))
        size = unit_size_kg(reading.unit)
        if self._capacity_kg is not None and size is not None:  # EURange: 0..Max in the displayed unit (Table 142)
            await nodes[f"{key}.eurange"].write_value(ua.Range(Low=0.0, High=float(self._capacity_kg / size)))
        await nodes[f"{key}.stable"].write_value(reading.stable)
        await nodes[f"{key}.gross"].write_value(gross)
        await nodes[f"{key}.net"].write_value(net)
        await nodes[f"{key}.tare"].write_value(tare)
        await nodes[f"{key}.tare_mode"].write_value(
            ua.Variant(TARE_MODE_MEASURED if tare else TARE_MODE_NONE, ua.VariantType.Int32)
        )
        printable = self.types.printable_class(Gross=gross_text, Net=net_text, Tare=tare_text)
        await nodes[f"{key}.printable"].write_value(ua.Variant(printable, ua.VariantType.ExtensionObject))
        weight = self.types.weight_class(Gross=gross, Net=net, Tare=tare)
        # The weight itself last: a client notified of it reads consistent properties.
        await target.write_value(ua.DataValue(ua.Variant(weight, ua.VariantType.ExtensionObject)))

    async def _write_flags(self, key: str, *, overload: bool, underload: bool) -> None:
        state = self._state
        if (overload, underload) == (state.overload, state.underload):
            return
        state.overload, state.underload = overload, underload
        await state.nodes[f"{key}.overload"].write_value(overload)
        await state.nodes[f"{key}.underload"].write_value(underload)

    async def run(self, interval: float) -> None:
        """Poll until cancelled."""
        while True:
            await self.poll_once()
            await asyncio.sleep(interval)

    # -- methods ------------------------------------------------------------------------------------------------

    async def _set_zero(self) -> None:
        await self._blocking(self.scale.zero)
        self._state.tare_value, self._state.tare_text = Decimal(0), "0"  # zeroing clears a tare on these protocols
        await self.poll_once()

    async def _set_tare(self) -> None:
        state = self._state

        def tare() -> tuple[Decimal, str] | None:
            before = self.scale.read(stable=True)
            self.scale.tare()
            stored = getattr(self.scale, "tare_value", None)
            if callable(stored):  # MT-SICS TA: the instrument's own tare value
                value: Reading = stored()
                return value.value, _text(value)
            total = state.tare_value + before.value
            return total, str(total)

        result = await self._blocking(tare)
        if result is not None:
            state.tare_value, state.tare_text = result
        await self.poll_once()

    async def _clear_tare(self) -> None:
        await self._blocking(self.scale.clear_tare)
        self._state.tare_value, self._state.tare_text = Decimal(0), "0"
        await self.poll_once()

    async def _register_weight(self) -> None:
        """RegisterWeight (7.4.5): a stable reading becomes RegisteredWeight with a new WeightId."""
        reading: Reading = await self._blocking(lambda: self.scale.read(stable=True))
        state = self._state
        state.registered += 1
        await state.nodes["weight_id"].write_value(
            f"{self.options.name}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{state.registered}"
        )
        await self._publish("RegisteredWeight", reading, state, force=True)


def _text(reading: Reading) -> str:
    """The value as the instrument printed it (its digits kept)."""
    return format(reading.value, "f")


async def _set_data_type(node: Node, data_type: ua.NodeId) -> None:
    await node.write_attribute(ua.AttributeIds.DataType, ua.DataValue(ua.Variant(data_type, ua.VariantType.NodeId)))


async def _bad(node: Node, code: int) -> None:
    await node.write_value(ua.DataValue(StatusCode=ua.StatusCode(code)))


def _method(
    owner: ua.NodeId, action: Callable[[], Awaitable[None]]
) -> Callable[..., Awaitable[list[ua.Variant] | ua.StatusCode]]:
    """An asyncua method callback for a method without arguments (OPC 40200 7.4.5-7.4.8), owned by ``owner``.

    A refusal of the scale becomes a Bad status (returned, not raised: asyncua turns a raised exception into
    BadUnexpectedError).  OPC 10000-4 5.11.2 Call: a call on another object is ``BadMethodInvalid``, input
    arguments to a method that has none ``BadTooManyArguments`` (asyncua checks neither).
    """

    async def call(parent: ua.NodeId, *args: ua.Variant) -> list[ua.Variant] | ua.StatusCode:
        if parent != owner:
            return ua.StatusCode(ua.StatusCodes.BadMethodInvalid)
        if args:
            return ua.StatusCode(ua.StatusCodes.BadTooManyArguments)
        try:
            await action()
        except ScaleError as err:
            _log.info("method refused: %s", err)
            return ua.StatusCode(_status_of(err))
        return []

    return call
