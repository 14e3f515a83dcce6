"""A simulated weighing instrument speaking MT-SICS, SBI, A&D or Toledo continuous over TCP or a pseudo-terminal.

See ``docs/simulator.md``.  :class:`Simulator` serves one :class:`WeighingModel`; :mod:`.fleet` runs several from
a YAML file; :class:`ControlClient` drives a running one through its control channel.
"""

from hengqi.instruments.simulator.dialects import DeviceInfo
from hengqi.instruments.simulator.model import (
    POSITIONS,
    Clock,
    Imperfections,
    Indication,
    ManualClock,
    SystemClock,
    WeighingModel,
)
from hengqi.instruments.simulator.server import ControlClient, Faults, Simulator

__all__ = [
    "POSITIONS",
    "Clock",
    "ControlClient",
    "DeviceInfo",
    "Faults",
    "Imperfections",
    "Indication",
    "ManualClock",
    "Simulator",
    "SystemClock",
    "WeighingModel",
]
