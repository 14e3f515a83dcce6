"""Record files people write and tools exchange: versioned, documented models with a published JSON Schema.

Sits just above the pure core: it validates and converts records (pydantic) into :mod:`hengqi.metrology` values.
"""

from hengqi.records.schemas import RECORD_MODELS, json_schema, record_kinds, record_model, schema_text

__all__ = ["RECORD_MODELS", "json_schema", "record_kinds", "record_model", "schema_text"]
