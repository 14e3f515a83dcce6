"""The registry of record kinds with a published JSON Schema (``hengqi schema KIND``).

Each kind maps to the pydantic model that defines it, named as ``"module:Class"`` and imported only when asked
for, so that adding a kind is one line here and costs nothing at import time.

>>> "verification-record" in RECORD_MODELS
True
>>> json_schema("verification-record")["title"]
'VerificationRecord'
"""

from __future__ import annotations

import importlib
import json
from typing import Any, Final

from pydantic import BaseModel

from hengqi.errors import InputError

#: Record kind -> ``"module:Class"`` of its pydantic model.
RECORD_MODELS: Final[dict[str, str]] = {
    "verification-record": "hengqi.records.verification_models:VerificationRecord",
    "uncertainty-model": "hengqi.records.uncertainty_model:UncertaintyModel",
    "calibration-record": "hengqi.records.calibration:CalibrationRecord",
    "run-raw-data": "hengqi.records.run_data:RunRawData",
    "run-results": "hengqi.records.run_data:RunResults",
}

#: Where the committed schemas live, relative to the repository root.
SCHEMA_DIR: Final = "docs/schemas"


def record_kinds() -> tuple[str, ...]:
    """The record kinds, sorted."""
    return tuple(sorted(RECORD_MODELS))


def record_model(kind: str) -> type[BaseModel]:
    """The pydantic model of a record kind; :class:`InputError` listing the kinds if unknown."""
    target = RECORD_MODELS.get(kind)
    if target is None:
        raise InputError("kind", f"unknown record kind {kind!r} (known: {', '.join(record_kinds())})")
    module_name, _, class_name = target.partition(":")
    model = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):  # pragma: no cover - registry mistake
        raise TypeError(f"{target} is not a pydantic model")
    return model


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a record kind, as pydantic generates it (aliases as written)."""
    schema = record_model(kind).model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{kind}.schema.json", **schema}


def schema_text(kind: str) -> str:
    """The JSON Schema of a record kind as committed in ``docs/schemas/KIND.schema.json`` (ends with a newline)."""
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"
