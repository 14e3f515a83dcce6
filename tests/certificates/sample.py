"""A hand-built calibration of a 220 g analytical balance and its administrative data, for the certificate tests.

The numbers are made up but consistent (E = I - m_ref, U = k u); they exercise every part the DCC writer emits,
including infinite degrees of freedom, a budget per point, an error curve and both kinds of minimum weight.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any

from hengqi.certificates.admin import AdministrativeData, admin_from_mapping
from hengqi.metrology.calibration.result import (
    CalibrationPoint,
    CalibrationResult,
    Component,
    Contribution,
    EccentricityResult,
    Environment,
    ErrorCurve,
    InstrumentSummary,
    MinimumWeight,
    MinimumWeightMethod,
    ReferenceWeightSet,
    RepeatabilityResult,
    UncertaintyInUse,
)

D = Decimal


def _point(load: str, error: str, u: float, dof: float) -> CalibrationPoint:
    load_kg = D(load)
    ref = load_kg - D("0.0000001")
    error_kg = D(error)
    indication = ref + error_kg
    budget = (
        Contribution("rounding-no-load", 2.886751345948129e-08, math.inf, "d0/(2*sqrt(3))", Component.INDICATION),
        Contribution("rounding-load", 2.886751345948129e-08, math.inf, "dL/(2*sqrt(3))", Component.INDICATION),
        Contribution("repeatability", 5.0e-08, 9.0, "s of 10 loadings", Component.INDICATION, "type-a"),
        Contribution(
            "reference-mass",
            1.0e-07 * float(load_kg) / 0.2,
            math.inf,
            "U/k of E2 weights",
            Component.REFERENCE,
            "normal",
        ),
    )
    k = 2.0 if math.isinf(dof) else 2.0000163
    return CalibrationPoint(
        load_kg=load_kg,
        reference_mass_kg=ref,
        no_load_indication_kg=D("0"),
        load_indication_kg=indication,
        indication_kg=indication,
        error_kg=error_kg,
        u_kg=u,
        dof=dof,
        k=k,
        U_kg=k * u,
        budget=budget,
        readings=1 if load != "0.2" else 3,
    )


def sample_result() -> CalibrationResult:
    points = (
        _point("0.00001", "0", 6.1e-08, math.inf),
        _point("0.05", "0.0000001", 7.3e-08, 15538.0),
        _point("0.1", "0.0000002", 9.0e-08, 4211.3),
        _point("0.2", "0.0000004", 1.23e-07, 880.25),
    )
    curve = ErrorCurve(
        model="linear-through-zero",
        powers=(1,),
        coefficients=(1.9e-06,),
        covariance=((2.5e-14,),),
        chi2=0.8,
        dof=3,
        u_approx_kg=0.0,
        method="weighted least squares, straight line through zero (hengqi)",
    )
    in_use = UncertaintyInUse(
        alpha_kg=6.5e-08,
        beta=4.1e-07,
        k=2.0,
        corrected=False,
        error_curve=curve,
        budget=(Contribution("rounding-in-use", 4.08e-08, math.inf, "d/sqrt(12) twice", Component.INDICATION),),
        max_kg=0.22,
        derivation="alpha from rounding and repeatability, beta from the calibration (hengqi)",
    )
    return CalibrationResult(
        instrument=InstrumentSummary(
            max_kg=D("0.220"),
            d_kg=D("0.0000001"),
            e_kg=D("0.000001"),
            accuracy_class="I",
            manufacturer="ExampleScales",
            model="XB-220",
            serial_number="SN-123456",
            identifier="BAL-07",
        ),
        points=points,
        repeatability=(
            RepeatabilityResult(
                load_kg=D("0.1"),
                readings=tuple(D(x) for x in ("0.1000001", "0.1000002", "0.1000001", "0.1000000", "0.1000002")),
                mean_kg=D("0.10000012"),
                s_kg=8.366600265340756e-08,
                dof=4,
            ),
        ),
        eccentricity=EccentricityResult(
            load_kg=D("0.1"),
            positions=("centre", "front left", "back left", "back right", "front right"),
            indications_kg=tuple(D(x) for x in ("0.1000001", "0.1000003", "0.0999999", "0.1000001", "0.1000002")),
            deviations_kg=tuple(D(x) for x in ("0", "0.0000002", "-0.0000002", "0", "0.0000001")),
            max_deviation_kg=D("0.0000002"),
        ),
        error_curve=curve,
        uncertainty_in_use=in_use,
        minimum_weights=(
            MinimumWeight(
                MinimumWeightMethod.USP41, 0.082, 0.001, 1.0, 4.1e-08, D("0.0000001"), "USP <41> (2 s / m <= 0.10 %)"
            ),
            MinimumWeight(MinimumWeightMethod.CG18, 0.0005, 0.001, 2.0, None, None, "cg-18 (hengqi construction)"),
        ),
        environment=Environment(
            temperature_start_c=20.4,
            temperature_end_c=20.9,
            relative_humidity_percent=45.0,
            pressure_hpa=1012.5,
            air_density_kg_m3=1.19,
        ),
        weights=(ReferenceWeightSet("WS-E2-01", "E2", "NIM 2026-123"),),
        calibration_date=date(2026, 11, 18),
        certificate_number="draft",
        laboratory="lab",
        customer="cust",
        location="Customer site, weighing room 2",
        operator="Wang Fang",
        notes=("The uncertainty in use is a hengqi construction (SECONDARY).",),
    )


ADMIN: dict[str, Any] = {
    "certificate": {
        "number": "HQ-CAL-2026-0042",
        "issue_date": "2026-11-20",
        "receipt_date": "2026-11-17",
        "performance_location": "customer",
        "country": "CN",
    },
    "laboratory": {
        "name": {"en": "Hengqi Weighing Calibration Laboratory", "zh": "衡器校准实验室"},
        "accreditation": "CNAS L0000",
        "email": "lab@example.org",
        "address": {
            "street": "Wensan Road",
            "street_no": "90",
            "post_code": "310012",
            "city": "Hangzhou",
            "country": "CN",
        },
    },
    "customer": {
        "name": {"en": "Example Pharma Co., Ltd.", "zh": "示例制药有限公司"},
        "address": {"city": "Shanghai", "country": "CN"},
    },
    "item": {
        "name": {"en": "Analytical balance", "zh": "分析天平"},
        "manufacturer": "ExampleScales",
        "model": "XB-220",
        "serial_number": "SN-123456",
        "max": "220 g",
        "d": "0.1 mg",
        "e": "1 mg",
        "class": "I",
    },
    "persons": [
        {"name": "Li Wei", "role": {"en": "Head of laboratory", "zh": "实验室主任"}, "main_signer": True},
        {"name": "Zhang Min", "role": "Technical reviewer"},
    ],
    "methods": [
        {
            "name": {"en": "Calibration of non-automatic weighing instruments", "zh": "非自动衡器校准"},
            "norms": ["EURAMET Calibration Guide No. 18, Version 4.0 (11/2015)"],
        }
    ],
    "statements": [
        {
            "text": {
                "en": "The instrument meets the MPE of OIML R 76-1 class I at every load tested.",
                "zh": "各试验载荷点示值误差均符合 OIML R 76-1 I 级最大允许误差。",
            },
            "norms": ["OIML R 76-1:2006"],
            "conformity": "pass",
            "ref_type": "hengqi_conformityR76",
        }
    ],
}


def sample_admin() -> AdministrativeData:
    return admin_from_mapping(ADMIN)
