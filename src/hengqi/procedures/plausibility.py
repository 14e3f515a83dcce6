"""Is a reading plausible for the step that asked for it?  Pure checks of one indication against its load.

A guided run knows what each reading should show: the load on the receptor (``ReadStable.load_kg``), the
instrument's maximum permissible error at that load, and the readings taken before at the same load.  A reading
that contradicts them is either a finding about the instrument or a slip (a sign typed wrong, a weight missing,
grams typed where kilograms were read).  :func:`check_reading` tells them apart as well as numbers can:

================  =======  ==================================================================================
code              gross    rule and its basis
================  =======  ==================================================================================
``sign``          yes      a positive load indicated as a negative value (no standard: an instrument under load
                           never indicates below zero unless it is faulty or the value was mistyped)
``gross_error``   yes      ``|I - L| > GROSS_FACTOR x MPE`` with the in-service MPE of OIML R 76-1:2006 3.5.2
                           (twice Table 6 of 3.5.1); the factor is a choice of this interface, not of a standard
``far``           yes      without an MPE (no accuracy class): ``|I - L| > FAR_FRACTION x L`` for a load above
                           zero (a choice of this interface, not of a standard)
``beyond_mpe``    no       ``|I - L| > MPE`` (in service; R 76-1 3.5.2): a finding, recorded and shown to the
                           reviewer; a calibration states the error whatever it is (EURAMET cg-18 v4.0)
``repeatability`` no       the spread of the readings at one load above the MPE (R 76-1:2006 3.6.1: the
                           difference between results for the same load shall not exceed the MPE at that load;
                           CONFIRMED in national texts, ``reference/standards.md``)
================  =======  ==================================================================================

A *gross* finding is not recorded without an explicit confirmation with a reason (or a new measurement); the
others are recorded as flags on the reading.  ``I - L`` is the raw indication error, without the rounding-error
correction of R 76-1 A.4.4.3: these are plausibility checks, not the evaluation of the test.

>>> from decimal import Decimal as D
>>> [f.code for f in check_reading(D("0.110"), D("-0.005"), mpe_kg=D("0.000002"))]
['sign', 'gross_error']
>>> check_reading(D("0.110"), D("0.1100003"), mpe_kg=D("0.000002"))
()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from hengqi.locale import N_, NP_, Message, translate_message
from hengqi.metrology.quantities import format_mass

#: A reading more than this many in-service MPEs from its load needs a confirmation (interface choice).
GROSS_FACTOR: Final = Decimal(5)
#: Without an MPE, a reading more than this fraction of its load away from it needs a confirmation
#: (interface choice).
FAR_FRACTION: Final = Decimal("0.1")

#: The name of each finding's code, as a reviewer reads it where a reading lists the codes it was recorded with
#: (``runs`` stores the codes only).
FINDING_NAMES: Final[dict[str, Message]] = {
    "sign": NP_("plausibility finding", "negative under load"),
    "gross_error": NP_("plausibility finding", "gross error"),
    "far": NP_("plausibility finding", "far from the load"),
    "beyond_mpe": NP_("plausibility finding", "error beyond the MPE"),
    "repeatability": NP_("plausibility finding", "spread beyond the MPE"),
}


def finding_name(code: str) -> Message:
    """The name of a finding's ``code`` as a catalogue message; an unknown code is shown as it is.

    >>> finding_name("beyond_mpe").english()
    'error beyond the MPE'
    >>> finding_name("something_else").english()
    'something_else'
    """
    return FINDING_NAMES.get(code) or NP_("plausibility finding", "{code}").format(code=code)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with a reading: ``code`` (see the module table), whether it is ``gross`` (needs a
    confirmation with a reason) and what it is, as a catalogue message (English msgid and parameters,
    translated where it is shown: :meth:`text`)."""

    code: str
    gross: bool
    what: Message

    @property
    def message(self) -> str:
        """What the finding is, in English."""
        return self.what.english()

    def text(self, lang: str) -> str:
        """What the finding is, in ``lang`` (from the catalogue)."""
        return translate_message(lang, self.what)


def check_reading(
    load_kg: Decimal,
    indication_kg: Decimal,
    *,
    mpe_kg: Decimal | None,
    same_load: Sequence[Decimal] = (),
) -> tuple[Finding, ...]:
    """The findings about ``indication_kg`` read with ``load_kg`` on the receptor (empty: plausible).

    ``mpe_kg`` is the in-service MPE at the load (``None`` where the instrument has no accuracy class or the
    table does not cover the load); ``same_load`` the readings taken before at the same load in the same test.

    >>> from decimal import Decimal as D
    >>> [f.code for f in check_reading(D("0.11"), D("0.110005"), mpe_kg=D("0.000002"))]
    ['beyond_mpe']
    >>> [f.code for f in check_reading(D("100"), D("120"), mpe_kg=None)]
    ['far']
    >>> [f.code for f in check_reading(D("0.1"), D("0.1000025"), mpe_kg=D("0.000002"),
    ...                                same_load=[D("0.1000001"), D("0.1")])]
    ['beyond_mpe', 'repeatability']
    >>> check_reading(D("100"), D("120"), mpe_kg=None)[0].text("zh")
    '示值 120 kg 与载荷 100 kg 相差过大'
    """
    findings: list[Finding] = []
    error = indication_kg - load_kg
    indication, load = format_mass(indication_kg), format_mass(load_kg)
    if load_kg > 0 and indication_kg < 0:
        findings.append(
            Finding(
                "sign",
                True,
                N_("{indication} is negative with {load} on the receptor").format(indication=indication, load=load),
            )
        )
    if mpe_kg is not None and mpe_kg > 0:
        mpe = format_mass(mpe_kg)
        if abs(error) > GROSS_FACTOR * mpe_kg:
            findings.append(
                Finding(
                    "gross_error",
                    True,
                    N_(
                        "{indication} is {difference} from the load {load}: more than {factor} x the in-service "
                        "MPE ({mpe})"
                    ).format(
                        indication=indication,
                        difference=format_mass(abs(error)),
                        load=load,
                        factor=str(GROSS_FACTOR),
                        mpe=mpe,
                    ),
                )
            )
        elif abs(error) > mpe_kg:
            findings.append(
                Finding(
                    "beyond_mpe",
                    False,
                    N_("the error {error} is larger than the MPE {mpe}").format(error=format_mass(error), mpe=mpe),
                )
            )
        if same_load:
            values = [*same_load, indication_kg]
            spread = max(values) - min(values)
            if spread > mpe_kg:
                findings.append(
                    Finding(
                        "repeatability",
                        False,
                        N_("the readings at {load} spread over {spread}, more than the MPE {mpe}").format(
                            load=load, spread=format_mass(spread), mpe=mpe
                        ),
                    )
                )
    elif load_kg > 0 and abs(error) > FAR_FRACTION * load_kg:
        findings.append(
            Finding(
                "far",
                True,
                N_("{indication} is far from the load {load}").format(indication=indication, load=load),
            )
        )
    return tuple(findings)


def needs_confirmation(findings: Sequence[Finding]) -> bool:
    """Whether any finding is gross (the reading is recorded only with a reason, or measured again).

    >>> needs_confirmation([Finding("beyond_mpe", False, Message(""))])
    False
    """
    return any(finding.gross for finding in findings)
