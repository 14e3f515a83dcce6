"""Shared parameters for the procedure tests: an instrument, a weight set, record headers."""

from __future__ import annotations

from typing import Any


def verification_header(**spec: Any) -> dict[str, Any]:
    """A verification record header: class III, Max 15 kg, e = 5 g, 4 supports, M1 weights 100 g ... 10 kg."""
    specification = {"class": "III", "max": "15 kg", "e": "5 g", "supports": 4, **spec}
    nominals = ["10 kg", "5 kg", "2 kg", "2 kg", "1 kg", "500 g", "200 g", "200 g", "100 g"]
    return {
        "instrument": {"id": "S-1", "make": "Acme", "specification": specification},
        "reference_weights": [{"id": f"W{i}", "class": "M1", "nominal": n} for i, n in enumerate(nominals)],
        "operator": "A. Inspector",
        "date": "2026-11-25",
        "stage": "initial",
        "rules": "oiml-r76",
    }


def calibration_header() -> dict[str, Any]:
    """A calibration record header: Max 220 g, d = 0.1 mg, E2 weights 10 g ... 200 g."""
    return {
        "date": "2026-11-25",
        "operator": "C. Technician",
        "instrument": {"id": "B-1", "max": "220 g", "d": "0.1 mg"},
        "weights": [
            {"id": "W200", "class": "E2", "nominal": "200 g"},
            {"id": "W100", "class": "E2", "nominal": "100 g"},
            {"id": "W50", "class": "E2", "nominal": "50 g"},
            {"id": "W20", "class": "E2", "nominal": "20 g", "quantity": 2},
            {"id": "W10", "class": "E2", "nominal": "10 g"},
        ],
    }
