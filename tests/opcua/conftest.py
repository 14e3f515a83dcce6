"""Fixtures of the OPC UA tests (defined in :mod:`tests.opcua.fixtures`)."""

from tests.opcua.fixtures import secured, served

__all__ = ["secured", "served"]
