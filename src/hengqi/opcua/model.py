"""The address space of OPC UA for Scales, built from the specification's tables (no NodeSet2 file is shipped).

Source: OPC 40200 *OPC UA for Weighing Technology* v2.00 (2025-03-01), namespace
``http://opcfoundation.org/UA/Scales/V2/``, read on reference.opcfoundation.org:

* Table 20 ScaleDeviceType (abstract, subtype of DI ComponentType): ``CurrentWeight`` (WeightItemType, Mandatory),
  ``<ListOfWeighingRanges>`` (WeighingRangeElementType, MandatoryPlaceholder), ``RegisteredWeight``, ``SetZero``,
  ``SetTare``, ``ClearTare``, ``RegisterWeight`` (Optional); the DI nameplate properties ``DeviceClass``,
  ``HardwareRevision``, ``Manufacturer``, ``Model``, ``SerialNumber``, ``SoftwareRevision`` made Mandatory; the
  Machinery ``Identification`` add-in (MachineIdentificationType, Mandatory).
* Table 113 SimpleScaleType: a subtype of ScaleDeviceType adding no nodes (the concrete type used here).
* Table 25 WeighingRangeElementType: ``ActualScaleInterval`` and ``VerificationScaleInterval`` (Double,
  AnalogUnitType) and ``Range`` (Range, with the ``EngineeringUnits`` property of Table 26), all Mandatory.
* Table 142 MeasuredItemType (subtype of DataItemType): ``EngineeringUnits`` and ``EURange`` Mandatory.
* Table 143 WeightItemType (subtype of MeasuredItemType, DataType WeightType): ``Overload``, ``Underload``,
  ``TareMode`` Mandatory; ``WeightStable``, ``LegalForTrade``, ``PrintableValue``, ``Gross``, ``Net``, ``Tare``,
  ``WeightId`` Optional (those used here).
* Tables 147/148 WeightType (structure Gross, Net, Tare: Double), Tables 145/146 PrintableWeightType (the same as
  String), both subtypes of AbstractWeightType; Table 156 TareMode (None_0, MeasuredTare_1, PresetTare_2,
  ProportionalTare_3).
* Methods 7.4.5 RegisterWeight, 7.4.7 SetZero, 7.4.8 SetTare: no arguments.

NodeIds are string ids chosen here (``ns=<Scales>;s=ScaleDeviceType``), not the numeric ids of the official NodeSet:
clients find the nodes by browse name.  The DI (OPC 10000-100) and Machinery (OPC 40001-1) types are modelled only
as far as ScaleDeviceType needs them: ``DI:ComponentType`` and ``Machinery:MachineIdentificationType`` are plain
object types without their own instance declarations, and ``DI:DeviceSet`` is the folder the scales live in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asyncua import Node, Server, ua
from asyncua.common.structures104 import new_enum, new_struct, new_struct_field

from hengqi.instruments.opcua import DI_NS, MACHINERY_NS, SCALES_NS, UNECE_CODES, UNECE_NS, unit_id

#: hengqi's own namespace: the scale instances and the extension (docs/opcua.md).
HENGQI_NS = "urn:hengqi:UA:ScalesExtension:1"

#: TareMode enumeration values (OPC 40200 v2.00 Table 156).
TARE_MODE_NONE = 0
TARE_MODE_MEASURED = 1

_UNIT_NAMES = {
    "kg": "kilogram",
    "g": "gram",
    "mg": "milligram",
    "t": "tonne",
    "lb": "pound",
    "oz": "ounce",
    "ct": "carat",
}


def eu_information(symbol: str) -> ua.EUInformation:
    """EUInformation of a printed mass unit (OPC 10000-8 5.6.3; UNECE Rec. 20 code), or an empty one."""
    info = ua.EUInformation()
    code = UNECE_CODES.get(symbol)
    if code is None:
        info.NamespaceUri = None
        info.UnitId = -1
        info.DisplayName = ua.LocalizedText(symbol)
        info.Description = ua.LocalizedText(symbol)
        return info
    info.NamespaceUri = UNECE_NS
    info.UnitId = unit_id(code)
    info.DisplayName = ua.LocalizedText(symbol)
    info.Description = ua.LocalizedText(_UNIT_NAMES.get(symbol, symbol))
    return info


@dataclass(frozen=True, slots=True)
class Namespaces:
    """Namespace indexes in the server's NamespaceArray."""

    scales: int
    di: int
    machinery: int
    hengqi: int


@dataclass(frozen=True, slots=True)
class Types:
    """The type nodes built once per server."""

    ns: Namespaces
    scale_device_type: Node
    simple_scale_type: Node
    range_type: Node
    measured_item_type: Node
    weight_item_type: Node
    weight_type: Node
    printable_weight_type: Node
    tare_mode: Node
    component_type: Node
    identification_type: Node
    extension_type: Node
    device_set: Node
    weight_class: Any
    printable_class: Any


def _sid(ns: int, name: str) -> ua.NodeId:
    return ua.NodeId(name, ns)


async def _struct(server: Server, ns: int, parent: Node, name: str, fields: list[ua.StructureField]) -> Node:
    """A structure DataType under ``parent`` (asyncua's ``new_struct`` places it under Structure only)."""
    node, _ = await new_struct(server, _sid(ns, name), ua.QualifiedName(name, ns), fields)
    base = server.get_node(ua.ObjectIds.Structure)
    await base.delete_reference(node, ua.ObjectIds.HasSubtype, forward=True, bidirectional=True)
    await parent.add_reference(node, ua.ObjectIds.HasSubtype, forward=True, bidirectional=True)
    definition = await node.read_data_type_definition()
    definition.BaseDataType = parent.nodeid
    await node.write_data_type_definition(definition)
    return node


async def build_types(server: Server) -> Types:
    """Register the namespaces and build the DataTypes, VariableTypes and ObjectTypes the scales need."""
    scales = await server.register_namespace(SCALES_NS)
    di = await server.register_namespace(DI_NS)
    machinery = await server.register_namespace(MACHINERY_NS)
    hengqi = await server.register_namespace(HENGQI_NS)
    ns = Namespaces(scales, di, machinery, hengqi)

    structure = server.get_node(ua.ObjectIds.Structure)
    abstract_weight = await structure.add_data_type(_sid(scales, "AbstractWeightType"), f"{scales}:AbstractWeightType")
    await abstract_weight.write_attribute(ua.AttributeIds.IsAbstract, ua.DataValue(ua.Variant(True)))
    weight_type = await _struct(
        server,
        scales,
        abstract_weight,
        "WeightType",
        [new_struct_field(n, ua.VariantType.Double) for n in ("Gross", "Net", "Tare")],
    )
    printable_type = await _struct(
        server,
        scales,
        abstract_weight,
        "PrintableWeightType",
        [new_struct_field(n, ua.VariantType.String) for n in ("Gross", "Net", "Tare")],
    )
    tare_mode = await new_enum(
        server, _sid(scales, "TareMode"), "TareMode", ["None_0", "MeasuredTare_1", "PresetTare_2", "ProportionalTare_3"]
    )
    await tare_mode.write_attribute(
        ua.AttributeIds.BrowseName, ua.DataValue(ua.Variant(ua.QualifiedName("TareMode", scales)))
    )
    await server.load_data_type_definitions()

    data_item = server.get_node(ua.ObjectIds.DataItemType)
    measured = await data_item.add_variable_type(
        _sid(scales, "MeasuredItemType"), f"{scales}:MeasuredItemType", ua.ObjectIds.BaseDataType
    )
    weight_item = await measured.add_variable_type(
        _sid(scales, "WeightItemType"), f"{scales}:WeightItemType", weight_type.nodeid
    )

    base_object = server.nodes.base_object_type
    component = await base_object.add_object_type(_sid(di, "ComponentType"), f"{di}:ComponentType")
    await component.write_attribute(ua.AttributeIds.IsAbstract, ua.DataValue(ua.Variant(True)))
    identification = await base_object.add_object_type(
        _sid(machinery, "MachineIdentificationType"), f"{machinery}:MachineIdentificationType"
    )
    scale_device = await component.add_object_type(_sid(scales, "ScaleDeviceType"), f"{scales}:ScaleDeviceType")
    await scale_device.write_attribute(ua.AttributeIds.IsAbstract, ua.DataValue(ua.Variant(True)))
    simple = await scale_device.add_object_type(_sid(scales, "SimpleScaleType"), f"{scales}:SimpleScaleType")
    range_type = await base_object.add_object_type(
        _sid(scales, "WeighingRangeElementType"), f"{scales}:WeighingRangeElementType"
    )
    extension = await base_object.add_object_type(
        _sid(hengqi, "ScaleMetrologyExtensionType"), f"{hengqi}:ScaleMetrologyExtensionType"
    )
    device_set = await server.nodes.objects.add_folder(_sid(di, "DeviceSet"), f"{di}:DeviceSet")
    return Types(
        ns,
        scale_device,
        simple,
        range_type,
        measured,
        weight_item,
        weight_type,
        printable_type,
        tare_mode,
        component,
        identification,
        extension,
        device_set,
        ua.WeightType,  # made by load_data_type_definitions
        ua.PrintableWeightType,
    )


async def add_property(parent: Node, ns: int, name: str, value: Any, variant: ua.VariantType | None = None) -> Node:
    """A property (HasProperty, PropertyType) with an initial value."""
    return await parent.add_property(
        ua.NodeId(f"{parent.nodeid.Identifier}.{name}", parent.nodeid.NamespaceIndex),
        ua.QualifiedName(name, ns),
        value,
        variant,
    )


async def add_typed_variable(
    parent: Node,
    nodeid: ua.NodeId,
    *,
    name: ua.QualifiedName,
    value: ua.Variant,
    data_type: ua.NodeId,
    type_def: ua.NodeId,
) -> Node:
    """A component variable whose TypeDefinition is ``type_def`` (asyncua creates BaseDataVariableType ones)."""
    node: Node = await parent.add_variable(nodeid, name, value, datatype=data_type)
    base = ua.NodeId(ua.ObjectIds.BaseDataVariableType)
    if type_def != base:
        await node.delete_reference(base, ua.ObjectIds.HasTypeDefinition, forward=True)
        await node.add_reference(type_def, ua.ObjectIds.HasTypeDefinition, forward=True, bidirectional=False)
    return node


#: Instance declarations of the types: (type attribute, BrowseName namespace key, name, node kind, modelling rule).
#: Kinds: "prop" (a property), "weight" (a WeightItemType variable), "double" (an AnalogUnitType Double), "range"
#: (a Range variable), "method", "ranges" (the WeighingRangeElementType placeholder), "addin" (Identification).
_DECLARATIONS: tuple[tuple[str, str, str, str, str], ...] = (
    # Table 20 ScaleDeviceType
    ("scale_device_type", "scales", "CurrentWeight", "weight", "Mandatory"),
    ("scale_device_type", "scales", "<ListOfWeighingRanges>", "ranges", "MandatoryPlaceholder"),
    ("scale_device_type", "scales", "RegisteredWeight", "weight", "Optional"),
    ("scale_device_type", "scales", "SetZero", "method", "Optional"),
    ("scale_device_type", "scales", "SetTare", "method", "Optional"),
    ("scale_device_type", "scales", "ClearTare", "method", "Optional"),
    ("scale_device_type", "scales", "RegisterWeight", "method", "Optional"),
    ("scale_device_type", "di", "Identification", "addin", "Mandatory"),
    *(
        ("scale_device_type", "di", name, "prop", "Mandatory")
        for name in ("DeviceClass", "HardwareRevision", "Manufacturer", "Model", "SerialNumber", "SoftwareRevision")
    ),
    # Table 25 WeighingRangeElementType
    ("range_type", "scales", "ActualScaleInterval", "double", "Mandatory"),
    ("range_type", "scales", "Range", "range", "Mandatory"),
    ("range_type", "scales", "VerificationScaleInterval", "double", "Mandatory"),
    # Table 142 MeasuredItemType
    ("measured_item_type", "core", "EngineeringUnits", "prop", "Mandatory"),
    ("measured_item_type", "core", "EURange", "prop", "Mandatory"),
    ("measured_item_type", "core", "InstrumentRange", "prop", "Optional"),
    # Table 143 WeightItemType (the Optional properties listed are those hengqi serves, plus the rest of the table)
    *(("weight_item_type", "scales", name, "prop", "Mandatory") for name in ("Overload", "TareMode", "Underload")),
    *(
        ("weight_item_type", "scales", name, "prop", "Optional")
        for name in (
            "CenterOfZero",
            "CurrentRangeId",
            "GrossNegative",
            "HighResolutionValue",
            "InsideZero",
            "LegalForTrade",
            "PrintableValue",
            "WeightId",
            "WeightStable",
            "Net",
            "Gross",
            "Tare",
        )
    ),
)

_RULES = {
    "Mandatory": ua.ObjectIds.ModellingRule_Mandatory,
    "Optional": ua.ObjectIds.ModellingRule_Optional,
    "MandatoryPlaceholder": ua.ObjectIds.ModellingRule_MandatoryPlaceholder,
}


async def _no_call(parent: ua.NodeId, *args: ua.Variant) -> ua.StatusCode:
    """A method of a type is not callable; its instances' methods are."""
    return ua.StatusCode(ua.StatusCodes.BadMethodInvalid)


async def add_declarations(types: Types, extension_names: tuple[str, ...]) -> None:
    """Add the instance declarations of the tables to the type nodes (with their ModellingRule).

    Called after the scale objects are made, so that asyncua does not copy them into the instances (hengqi builds
    the instances itself, with the values and callbacks of each scale).
    """
    indexes = {"scales": types.ns.scales, "di": types.ns.di, "core": 0, "hengqi": types.ns.hengqi}
    rows = [*_DECLARATIONS, *(("extension_type", "hengqi", n, "variable", "Mandatory") for n in extension_names)]
    for attribute, space, name, kind, rule in rows:
        owner: Node = getattr(types, attribute)
        nodeid = ua.NodeId(f"{owner.nodeid.Identifier}.{name}", owner.nodeid.NamespaceIndex)
        qname = ua.QualifiedName(name, indexes[space])
        node: Node
        if kind == "prop":
            node = await owner.add_property(nodeid, qname, ua.Variant(None, ua.VariantType.Null))
        elif kind == "variable":
            node = await owner.add_variable(nodeid, qname, ua.Variant(None, ua.VariantType.Null))
        elif kind == "weight":
            node = await add_typed_variable(
                owner,
                nodeid,
                name=qname,
                value=ua.Variant(None, ua.VariantType.Null),
                data_type=types.weight_type.nodeid,
                type_def=types.weight_item_type.nodeid,
            )
        elif kind in {"double", "range"}:
            node = await add_typed_variable(
                owner,
                nodeid,
                name=qname,
                value=ua.Variant(None, ua.VariantType.Null),
                data_type=ua.NodeId(ua.ObjectIds.Double if kind == "double" else ua.ObjectIds.Range),
                type_def=ua.NodeId(
                    ua.ObjectIds.AnalogUnitType if kind == "double" else ua.ObjectIds.BaseDataVariableType
                ),
            )
        elif kind == "method":
            node = await owner.add_method(nodeid, qname, _no_call, [], [])
        elif kind == "ranges":
            node = await owner.add_object(nodeid, qname, objecttype=types.range_type.nodeid)
        else:  # the Identification add-in
            node = await owner.add_object(nodeid, qname, objecttype=types.identification_type.nodeid)
            await owner.delete_reference(node, ua.ObjectIds.HasComponent, forward=True, bidirectional=True)
            await owner.add_reference(node, ua.ObjectIds.HasAddIn, forward=True, bidirectional=True)
        await node.add_reference(_RULES[rule], ua.ObjectIds.HasModellingRule, True, False)
