"""Namespaces, the DCC version written, D-SI units, number formatting and hengqi's ``refType`` vocabulary.

DCC 3.3.0 with D-SI 2.2.1 (PTB; ``/work/shared/reference/dcc.md`` section 1, CONFIRMED from the XSDs).  D-SI unit
identifiers follow the D-SI notation (``\\kilogram``, ``\\gram``, ``\\degreecelsius``, ``\\percent``,
``\\hecto\\pascal``), checked against PTB's ``dsiunits`` 3.1.3 in the tests.  No PTB or EURAMET ``refType``
vocabulary for non-automatic weighing instruments was found (dcc.md section 3, NOT FOUND); the ``hengqi_*`` names
below are this project's own, stable across releases and documented in ``docs/certificates.md``.

>>> plain(Decimal("1E-7")), plain(9e-07), plain(2.0), mass_text(Decimal("0.0001"), GRAM)
('0.0000001', '0.0000009', '2.0', '0.1')
>>> parse_mass_text("0.1", GRAM)
Decimal('0.0001')
"""

from __future__ import annotations

import math
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation
from typing import Final

from hengqi.certificates.errors import DccFormatError

DCC_VERSION: Final = "3.3.0"
DSI_VERSION: Final = "2.2.1"
DCC_NS: Final = "https://ptb.de/dcc"
SI_NS: Final = "https://ptb.de/si"
XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"
DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
NSMAP: Final = {"dcc": DCC_NS, "si": SI_NS, "xsi": XSI_NS}
SCHEMA_LOCATION: Final = f"{DCC_NS} https://ptb.de/dcc/v{DCC_VERSION}/dcc.xsd"

#: Coverage probability written with every expanded uncertainty: EURAMET cg-18 v4.0 states U for about 95 %
#: with k = 2 for infinite degrees of freedom, i.e. p = 95.45 % (SECONDARY, reference standards.md section 3).
COVERAGE_PROBABILITY: Final = "0.9545"

KILOGRAM: Final = "\\kilogram"
GRAM: Final = "\\gram"
MILLIGRAM: Final = "\\milli\\gram"
TONNE: Final = "\\tonne"
ONE: Final = "\\one"
DEGREE_CELSIUS: Final = "\\degreecelsius"
PERCENT: Final = "\\percent"
HECTOPASCAL: Final = "\\hecto\\pascal"
KG_PER_M3: Final = "\\kilogram\\metre\\tothe{-3}"

#: Scaling by powers of ten must never round: a context as precise as Decimal allows.
_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)

#: Decimal exponent of each mass unit relative to the kilogram (exact scaling with ``Decimal.scaleb``).
MASS_UNIT_EXPONENT: Final[dict[str, int]] = {TONNE: 3, KILOGRAM: 0, GRAM: -3, MILLIGRAM: -6, "\\micro\\gram": -9}

# refTypes: measurement results
R_ERROR_OF_INDICATION: Final = "hengqi_errorOfIndication"
R_TEST_LOAD: Final = "hengqi_testLoad"
R_REFERENCE_MASS: Final = "hengqi_referenceMass"
R_NO_LOAD_INDICATION: Final = "hengqi_noLoadIndication"
R_LOAD_INDICATION: Final = "hengqi_loadIndication"
R_INDICATION: Final = "hengqi_indication"
R_STANDARD_UNCERTAINTY: Final = "hengqi_standardUncertainty"
R_DEGREES_OF_FREEDOM: Final = "hengqi_degreesOfFreedom"
R_READINGS_COUNT: Final = "hengqi_numberOfReadings"
R_RANGE_IN_USE: Final = "hengqi_rangeInUse"
R_UNCERTAINTY_BUDGET: Final = "hengqi_uncertaintyBudget"
R_BUDGET_COMPONENT: Final = "hengqi_budgetComponent"
R_BUDGET_DISTRIBUTION: Final = "hengqi_budgetDistribution"
R_REPEATABILITY: Final = "hengqi_repeatability"
R_READINGS: Final = "hengqi_readings"
R_MEAN: Final = "hengqi_mean"
R_STANDARD_DEVIATION: Final = "hengqi_standardDeviation"
R_ECCENTRICITY: Final = "hengqi_eccentricity"
R_LOAD_POSITION: Final = "hengqi_loadPosition"
R_ECC_DEVIATION: Final = "hengqi_eccentricityDeviation"
R_ECC_MAX_DEVIATION: Final = "hengqi_eccentricityMaxDeviation"
R_ERROR_CURVE: Final = "hengqi_errorCurve"
R_CURVE_MODEL: Final = "hengqi_curveModel"
R_CURVE_POWERS: Final = "hengqi_curvePowers"
R_CURVE_COEFFICIENTS: Final = "hengqi_curveCoefficients"
R_CURVE_COVARIANCE: Final = "hengqi_curveCovariance"
R_CHI2: Final = "hengqi_chiSquared"
R_U_APPROXIMATION: Final = "hengqi_uncertaintyOfApproximation"
R_UNCERTAINTY_IN_USE: Final = "hengqi_uncertaintyInUse"
R_IN_USE_ALPHA: Final = "hengqi_inUseAlpha"
R_IN_USE_BETA: Final = "hengqi_inUseBeta"
R_COVERAGE_FACTOR: Final = "hengqi_coverageFactor"
R_IN_USE_CORRECTED: Final = "hengqi_inUseCorrected"
R_RANGE_MAX: Final = "hengqi_rangeMax"
R_MINIMUM_WEIGHT: Final = "hengqi_minimumWeight"
R_MIN_WEIGHT_METHOD: Final = "hengqi_minimumWeightMethod"
R_TOLERANCE: Final = "hengqi_relativeTolerance"
R_SAFETY_FACTOR: Final = "hengqi_safetyFactor"
R_SCALE_INTERVAL: Final = "hengqi_scaleInterval"
# item and administrative data
R_MAX: Final = "hengqi_maximumCapacity"
R_MIN: Final = "hengqi_minimumCapacity"
R_D: Final = "hengqi_scaleInterval"
R_E: Final = "hengqi_verificationScaleInterval"
R_ACCURACY_CLASS: Final = "hengqi_accuracyClass"
R_RANGE_KIND: Final = "hengqi_rangeKind"
R_RANGES_MAX: Final = "hengqi_rangesMaximumCapacity"
R_RANGES_D: Final = "hengqi_rangesScaleInterval"
R_RANGES_E: Final = "hengqi_rangesVerificationScaleInterval"
R_SERIAL: Final = "hengqi_serialNumber"
R_IDENTIFIER: Final = "hengqi_instrumentIdentifier"
R_OPERATOR: Final = "hengqi_operator"
R_METHOD: Final = "hengqi_calibrationMethod"
R_TRACEABILITY: Final = "hengqi_traceability"
R_NOTE: Final = "hengqi_calibrationNote"
R_LOCATION: Final = "hengqi_calibrationLocation"
R_WEIGHT_SET: Final = "hengqi_referenceWeightSet"
R_CONFORMITY: Final = "hengqi_conformityMpe"
R_WEIGHT_COUNT: Final = "hengqi_numberOfWeights"
R_NOMINAL_MASS: Final = "hengqi_nominalMass"
#: PTB's good-practice refType for statements of conformity (``basic_conformity``, seen in PTB's example DCCs in
#: ``/work/shared/dcc/examples``, with ``basic_acceptanceLimitLower`` / ``basic_acceptanceLimitUpper``).
R_BASIC_CONFORMITY: Final = "basic_conformity"
R_MPE: Final = "hengqi_maximumPermissibleError"
R_P_NONCONFORMITY: Final = "hengqi_probabilityOutsideMpe"
# influence conditions (PTB good practice uses basic_temperature; the others are hengqi's)
R_TEMPERATURE: Final = "basic_temperature"
R_TEMPERATURE_START: Final = "hengqi_temperatureStart"
R_TEMPERATURE_END: Final = "hengqi_temperatureEnd"
R_HUMIDITY: Final = "hengqi_relativeHumidity"
R_PRESSURE: Final = "hengqi_airPressure"
R_AIR_DENSITY: Final = "hengqi_airDensity"

#: English and Chinese names written for each refType (``dcc:name/dcc:content``).
NAMES: Final[dict[str, tuple[str, str]]] = {
    R_ERROR_OF_INDICATION: ("Error of indication", "示值误差"),
    R_TEST_LOAD: ("Test load", "试验载荷"),
    R_REFERENCE_MASS: ("Conventional mass of the reference weights", "参考砝码折算质量"),
    R_NO_LOAD_INDICATION: ("Indication at no load", "空载示值"),
    R_LOAD_INDICATION: ("Indication at load", "加载示值"),
    R_INDICATION: ("Indication (net)", "示值（净）"),
    R_STANDARD_UNCERTAINTY: ("Standard uncertainty", "标准不确定度"),
    R_DEGREES_OF_FREEDOM: ("Degrees of freedom", "自由度"),
    R_READINGS_COUNT: ("Number of readings", "读数次数"),
    R_RANGE_IN_USE: ("Range in use", "使用的称量范围"),
    R_UNCERTAINTY_BUDGET: ("Uncertainty budget", "不确定度分量表"),
    R_BUDGET_COMPONENT: ("Component", "分量类别"),
    R_BUDGET_DISTRIBUTION: ("Distribution", "分布"),
    R_REPEATABILITY: ("Repeatability", "重复性"),
    R_READINGS: ("Readings", "读数"),
    R_MEAN: ("Mean", "平均值"),
    R_STANDARD_DEVIATION: ("Standard deviation", "标准偏差"),
    R_ECCENTRICITY: ("Eccentricity", "偏载"),
    R_LOAD_POSITION: ("Load position", "加载位置"),
    R_ECC_DEVIATION: ("Deviation from the centre", "相对中心的偏差"),
    R_ECC_MAX_DEVIATION: ("Largest deviation", "最大偏差"),
    R_ERROR_CURVE: ("Approximation of the errors of indication", "示值误差拟合曲线"),
    R_CURVE_MODEL: ("Model", "模型"),
    R_CURVE_POWERS: ("Powers of the reading", "读数的幂次"),
    R_CURVE_COEFFICIENTS: ("Coefficients (SI base units)", "系数（国际单位制基本单位）"),
    R_CURVE_COVARIANCE: (
        "Covariance of the coefficients (SI base units, row-major)",
        "系数协方差（国际单位制基本单位）",
    ),
    R_CHI2: ("Chi-squared", "卡方"),
    R_U_APPROXIMATION: ("Standard uncertainty of the approximation", "拟合附加标准不确定度"),
    R_UNCERTAINTY_IN_USE: ("Uncertainty of a weighing result in use", "使用中称量结果的不确定度"),
    R_IN_USE_ALPHA: ("Load-independent term alpha", "与载荷无关项 α"),
    R_IN_USE_BETA: ("Relative term beta", "相对项 β"),
    R_COVERAGE_FACTOR: ("Coverage factor k", "包含因子 k"),
    R_IN_USE_CORRECTED: ("Results corrected by the error curve", "结果按误差曲线修正"),
    R_RANGE_MAX: ("Upper end of the range", "范围上限"),
    R_MINIMUM_WEIGHT: ("Minimum weight", "最小称量值"),
    R_MIN_WEIGHT_METHOD: ("Method", "方法"),
    R_TOLERANCE: ("Relative weighing tolerance", "相对称量允差"),
    R_SAFETY_FACTOR: ("Safety factor", "安全系数"),
    R_MAX: ("Maximum capacity Max", "最大秤量"),
    R_MIN: ("Minimum capacity Min", "最小秤量"),
    R_D: ("Actual scale interval d", "实际分度值 d"),
    R_E: ("Verification scale interval e", "检定分度值 e"),
    R_ACCURACY_CLASS: ("Accuracy class", "准确度等级"),
    R_RANGE_KIND: ("Instrument with several ranges", "具有多个称量范围的衡器"),
    R_RANGES_MAX: ("Maximum capacity of each range Max(i)", "各称量范围的最大秤量"),
    R_RANGES_D: ("Actual scale interval of each range d(i)", "各称量范围的实际分度值 d(i)"),
    R_RANGES_E: ("Verification scale interval of each range e(i)", "各称量范围的检定分度值 e(i)"),
    R_SERIAL: ("Serial number", "出厂编号"),
    R_IDENTIFIER: ("Instrument identifier", "器具编号"),
    R_TEMPERATURE_START: ("Temperature at the start", "开始时温度"),
    R_TEMPERATURE_END: ("Temperature at the end", "结束时温度"),
    R_HUMIDITY: ("Relative humidity", "相对湿度"),
    R_PRESSURE: ("Air pressure", "大气压力"),
    R_AIR_DENSITY: ("Air density", "空气密度"),
    R_METHOD: ("Calibration of a non-automatic weighing instrument", "非自动衡器校准"),
    R_CONFORMITY: ("Conformity", "符合性"),
    R_WEIGHT_COUNT: ("Number of weights", "砝码数量"),
    R_NOMINAL_MASS: ("Nominal value of one weight", "单个砝码标称值"),
    R_MPE: ("Maximum permissible error", "最大允许误差"),
    R_P_NONCONFORMITY: ("Probability that the error lies outside the MPE", "误差超出最大允许误差的概率"),
}


def plain(value: Decimal | float | int) -> str:
    """A number as a plain decimal string (no exponent), exact for a :class:`Decimal`, the shortest repr for a
    float (D-SI ``decimalType``; pitfall P3: no ``INF``).  ``NaN`` stays ``NaN``."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            raise ValueError("D-SI cannot express an infinite value")
        return format(Decimal(repr(value)), "f")
    return format(Decimal(value), "f")


def scaled(value: Decimal | float, exponent: int) -> str:
    """``value`` (in kg) written in a unit ``10**exponent`` kg, exactly (through the float's shortest repr)."""
    dec = Decimal(repr(value)) if isinstance(value, float) else value
    if not dec.is_finite():
        raise ValueError(f"D-SI cannot express {value!r} as a mass")
    return format(dec.scaleb(-exponent, context=_EXACT), "f")


def mass_text(value_kg: Decimal | float, unit: str) -> str:
    """A mass in kilograms written as a plain decimal string in the D-SI mass ``unit``."""
    return scaled(value_kg, MASS_UNIT_EXPONENT[unit])


def number(text: str, *, path: str) -> Decimal:
    """Parse a D-SI ``decimalType`` string exactly; :class:`DccFormatError` naming ``path`` otherwise."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation as err:
        raise DccFormatError(path, f"not a number: {text!r}") from err
    return value


def parse_mass_text(text: str, unit: str, *, path: str = "value") -> Decimal:
    """A mass written in ``unit`` back to exact kilograms."""
    if unit not in MASS_UNIT_EXPONENT:
        raise DccFormatError(path, f"not a mass unit hengqi reads: {unit!r} (known: {', '.join(MASS_UNIT_EXPONENT)})")
    return number(text, path=path).scaleb(MASS_UNIT_EXPONENT[unit], context=_EXACT)


def mass_float(text: str, unit: str, *, path: str = "value") -> float:
    """A mass written in ``unit`` back to float kilograms (the same double that was written)."""
    return float(parse_mass_text(text, unit, path=path))


def choose_mass_unit(max_kg: Decimal) -> str:
    """``\\gram`` for instruments with Max below 10 kg, ``\\kilogram`` from 10 kg (how their scales read)."""
    return GRAM if max_kg < 10 else KILOGRAM
