"""Talking to scales: transports, protocol codecs, the Scale interface, the simulator. Imports metrology only.

>>> from hengqi.instruments import parse_address
>>> parse_address("tcp://127.0.0.1:4001?protocol=mt-sics").protocol
'mt-sics'
"""

from hengqi.instruments.aio import AsyncScale
from hengqi.instruments.drivers import DRIVERS, AndScale, MtSicsScale, SbiScale, ToledoContinuousScale
from hengqi.instruments.probe import ProbeResult, open_scale, probe
from hengqi.instruments.reading import Identity, Reading
from hengqi.instruments.scale import Scale
from hengqi.instruments.transport import Address, Transport, open_transport, parse_address

__all__ = [
    "DRIVERS",
    "Address",
    "AndScale",
    "AsyncScale",
    "Identity",
    "MtSicsScale",
    "ProbeResult",
    "Reading",
    "SbiScale",
    "Scale",
    "ToledoContinuousScale",
    "Transport",
    "open_scale",
    "open_transport",
    "parse_address",
    "probe",
]
