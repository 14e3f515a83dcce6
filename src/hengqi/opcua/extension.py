"""hengqi's extension to OPC UA for Scales: what legal metrology needs and OPC 40200 v2.00 has no node for.

OPC 40200 v2.00 models the weighing process but has no nodes for the audit trail that OIML R 76-1:2006 / WELMEC
Guide 7.2 expect of a legally relevant instrument, nor for its verification state.  Each scale object therefore
carries one object ``HQ:Metrology`` of ``HQ:ScaleMetrologyExtensionType`` in hengqi's own namespace
(:data:`hengqi.opcua.model.HENGQI_NS`), referenced with HasComponent, with these variables (all read-only):

========================== ============== ====================================================================
BrowseName (HQ:)           DataType       Meaning
========================== ============== ====================================================================
CalibrationEventCounter    UInt32         adjustments of the calibration (span) parameters so far
ConfigurationEventCounter  UInt32         changes of legally relevant configuration parameters so far
EventLog                   String[]       the instrument's event log entries, oldest first
SoftwareIdentification     String         the legally relevant software's identification
SoftwareChecksum           String         its checksum as displayed by the instrument
VerificationStatus         String         ``unknown``, ``verified``, ``expired``, ``failed`` or ``not-required``
VerificationDueDate        DateTime       when the next (re)verification is due (00:00 UTC of that day)
LastCertificateId          String         the identifier of the last calibration/verification certificate
========================== ============== ====================================================================

Values come from the configuration (:mod:`hengqi.opcua.config`) for now; a value that is not known is served with
status ``BadConfigurationError`` rather than an invented one.
"""

from __future__ import annotations

import datetime as dt

from asyncua import Node, ua

from hengqi.opcua.config import ScaleOptions

#: BrowseNames of the extension variables, in the order documented above.
EXTENSION_VARIABLES = (
    "CalibrationEventCounter",
    "ConfigurationEventCounter",
    "EventLog",
    "SoftwareIdentification",
    "SoftwareChecksum",
    "VerificationStatus",
    "VerificationDueDate",
    "LastCertificateId",
)


async def add_extension(parent: Node, ns: int, extension_type: Node, options: ScaleOptions) -> Node:
    """Add ``HQ:Metrology`` with the variables of the table above to a scale object."""
    ext = options.extension
    base = f"{options.name}.Metrology"
    node: Node = await parent.add_object(
        ua.NodeId(base, ns), ua.QualifiedName("Metrology", ns), objecttype=extension_type.nodeid
    )
    due = None
    if ext.verification_due is not None:
        due = dt.datetime.combine(ext.verification_due, dt.time(0, 0), tzinfo=dt.UTC)
    values: dict[str, tuple[object, ua.VariantType]] = {
        "CalibrationEventCounter": (ext.calibration_counter, ua.VariantType.UInt32),
        "ConfigurationEventCounter": (ext.configuration_counter, ua.VariantType.UInt32),
        "EventLog": (list(ext.event_log), ua.VariantType.String),
        "SoftwareIdentification": (ext.software_id, ua.VariantType.String),
        "SoftwareChecksum": (ext.software_checksum, ua.VariantType.String),
        "VerificationStatus": (ext.verification_status, ua.VariantType.String),
        "VerificationDueDate": (due, ua.VariantType.DateTime),
        "LastCertificateId": (ext.last_certificate_id, ua.VariantType.String),
    }
    for name in EXTENSION_VARIABLES:
        value, variant = values[name]
        var = await node.add_variable(
            ua.NodeId(f"{base}.{name}", ns),
            ua.QualifiedName(name, ns),
            ua.Variant(_placeholder(variant) if value is None else value, variant, is_array=name == "EventLog"),
            datatype=ua.NodeId(variant.value),
        )
        if name == "EventLog":
            await var.write_value_rank(1)
        if value is None:
            await var.write_value(ua.DataValue(StatusCode=ua.StatusCode(ua.StatusCodes.BadConfigurationError)))
    return node


def _placeholder(variant: ua.VariantType) -> object:
    """A typed value for a node created without one (its status is then set Bad)."""
    return {ua.VariantType.UInt32: 0, ua.VariantType.String: "", ua.VariantType.DateTime: dt.datetime(1601, 1, 1)}[
        variant
    ]
