"""Record files people write and tools exchange: versioned, documented models with a published JSON Schema.

Sits just above the pure core: it validates and converts records (pydantic) into :mod:`hengqi.metrology` values.
"""
