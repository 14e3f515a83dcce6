"""Digital Calibration Certificates (PTB DCC 3.3.0 with D-SI 2.2.1): writer and reader.

>>> DCC_VERSION
'3.3.0'
"""

from __future__ import annotations

from hengqi.certificates.dcc.reader import DccDocument, QuantityRecord, parse_dcc, read_dcc, read_quantities
from hengqi.certificates.dcc.vocabulary import DCC_VERSION, DSI_VERSION
from hengqi.certificates.dcc.writer import certified_result, dcc_bytes, write_dcc

__all__ = [
    "DCC_VERSION",
    "DSI_VERSION",
    "DccDocument",
    "QuantityRecord",
    "certified_result",
    "dcc_bytes",
    "parse_dcc",
    "read_dcc",
    "read_quantities",
    "write_dcc",
]
