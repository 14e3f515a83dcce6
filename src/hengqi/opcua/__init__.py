"""OPC UA for Scales (OPC 40200 v2.00): every scale hengqi reaches, served as a SimpleScaleType object.

Sits beside :mod:`hengqi.procedures` above the instruments layer; imports :mod:`hengqi.instruments` and
:mod:`hengqi.metrology` only, and asyncua.  See ``docs/opcua.md``.  The client direction (an ``opc.tcp://`` scale)
is :mod:`hengqi.instruments.opcua`.
"""
