"""What a reviewer must see before signing: every warning about a recorded run, in one list.

ISO/IEC 17025:2017 7.8.1.2 asks that reports be reviewed and authorised before release (clause number SECONDARY,
the standard was not read).  The list is made from what was recorded, never from what the page happens to show:

===========================  ======================================================================================
code                         when, and its basis
===========================  ======================================================================================
``e_plus_u_beyond_mpe``      a calibration point with ``|E| + U > MPE`` (OIML R 76-1:2006 3.5.1 Table 6, initial
                             verification, the limits the results page draws): the instrument cannot be shown to
                             be within the MPE at that load
``u_beyond_third_mpe``       ``U > MPE/3``: the uncertainty is too large for a conformity statement; the one-third
                             ratio is the laboratory's review criterion (no clause of a standard was read for it)
``flagged_reading``          a reading recorded with plausibility findings (:mod:`hengqi.procedures.plausibility`)
``corrected_reading``        a reading corrected after it was recorded (the original is kept)
``weight_*``                 a reference weight out of calibration or without a due date
                             (:mod:`hengqi.server.services.runs`; ISO/IEC 17025:2017 6.4.7, SECONDARY)
``missing_conditions``       no environmental conditions in the record (EURAMET cg-18 v4.0: the air density enters
                             the buoyancy correction; SECONDARY, cg-18 body not read)
===========================  ======================================================================================

>>> from decimal import Decimal as D
>>> found = point_warnings([(D("0.2"), D("0.0000007"), 0.0000009)], lambda load: D("0.000002"))
>>> [w.code for w in found]
['u_beyond_third_mpe']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hengqi.locale import N_, NP_, Message, translate_message
from hengqi.metrology.quantities import format_mass
from hengqi.procedures.instructions import purpose_message
from hengqi.procedures.plausibility import finding_name


@dataclass(frozen=True, slots=True)
class ReviewWarning:
    """One thing the reviewer must look at: a ``code`` (module table) and what it is, as a catalogue message
    (English msgid and parameters, translated when the page is drawn)."""

    code: str
    what: Message

    @property
    def message(self) -> str:
        """What it is, in English."""
        return self.what.english()

    def text(self, lang: str) -> str:
        """What it is, in ``lang``."""
        return translate_message(lang, self.what)


#: The server's flags about weights (:func:`hengqi.server.services.runs.evaluate`), stored with an English text:
#: read back into a message (a flag of any other form is shown as it was stored).
_WEIGHT_FLAGS: tuple[tuple[re.Pattern[str], Message], ...] = (
    (
        re.compile(r"weight (?P<weight>\S+) has no calibration due date"),
        N_("weight {weight} has no calibration due date"),
    ),
    (
        re.compile(r"weight (?P<weight>\S+) was out of calibration on (?P<day>\S+) \(due (?P<due>\S+)\)"),
        N_("weight {weight} was out of calibration on {day} (due {due})"),
    ),
)


def _flag_message(text: str) -> Message:
    for pattern, message in _WEIGHT_FLAGS:
        found = pattern.fullmatch(text)
        if found:
            return message.format(**found.groupdict())
    return Message(text)


def _two_digits(value: Decimal) -> Decimal:
    """A limit as shown: two significant digits (``1.6666... g`` -> ``1.7 g``); comparisons use the exact value.

    >>> _two_digits(Decimal("0.0016666666666666666")), _two_digits(Decimal("0.0025"))
    (Decimal('0.0017'), Decimal('0.0025'))
    """
    if value == 0:
        return value
    return value.quantize(Decimal(1).scaleb(value.adjusted() - 1)).normalize()


def _u(value: float) -> Decimal:
    """U as the results page states it (two significant digits)."""
    return Decimal(f"{value:.2g}")


def point_warnings(
    points: Iterable[tuple[Decimal, Decimal, float]],
    mpe_at: Callable[..., Decimal | None],
    ranges: Sequence[int | None] = (),
) -> list[ReviewWarning]:
    """Warnings of the calibration points ``(load, E, U)`` against the MPE at each load (``mpe_at(load, range)``
    with the range each point was read in, where ``ranges`` names them)."""
    found: list[ReviewWarning] = []
    for index, (load, error, u_float) in enumerate(points):
        limit = mpe_at(load, ranges[index]) if index < len(ranges) and ranges[index] is not None else mpe_at(load)
        if limit is None:
            continue
        u = _u(u_float)
        if abs(error) + u > limit:
            found.append(
                ReviewWarning(
                    "e_plus_u_beyond_mpe",
                    N_("{load}: |E| + U = {sum} > MPE = {mpe}").format(
                        load=format_mass(load), sum=format_mass(abs(error) + u), mpe=format_mass(limit)
                    ),
                )
            )
        if u > limit / 3:
            third = format_mass(_two_digits(limit / 3))
            found.append(
                ReviewWarning(
                    "u_beyond_third_mpe",
                    N_("{load}: U = {u} > MPE/3 ≈ {third}").format(
                        load=format_mass(load), u=format_mass(u), third=third
                    ),
                )
            )
    return found


@dataclass(frozen=True, slots=True)
class RecordedReading:
    """A reading of the run as the review lists it: its number, what it was, its value, flags and reason."""

    index: int
    purpose: str
    answer: str | None
    flags: tuple[str, ...]
    reason: str


def flag_list(codes: Sequence[str]) -> Message:
    """The plausibility codes a reading was recorded with, named in the reader's language and listed.

    >>> flag_list(["beyond_mpe", "repeatability"]).english()
    'error beyond the MPE, spread beyond the MPE'
    >>> translate_message("zh", flag_list(["beyond_mpe"])) != "beyond_mpe"
    True
    """
    listed = finding_name(codes[-1]) if codes else Message("")
    for code in reversed(codes[:-1]):
        listed = NP_("list", "{first}, {rest}").format(first=finding_name(code), rest=listed)
    return listed


def reading_warnings(
    readings: Sequence[RecordedReading], corrections: Sequence[Mapping[str, Any]]
) -> list[ReviewWarning]:
    """Warnings of readings recorded with findings, and of every correction."""
    found: list[ReviewWarning] = []
    for reading in readings:
        if reading.flags:
            value = "—" if reading.answer is None else format_mass(Decimal(reading.answer))
            params: dict[str, str | Message] = {
                "step": str(reading.index + 1),
                "purpose": purpose_message(reading.purpose),
                "value": value,
                "flags": flag_list(reading.flags),
            }
            if reading.reason:
                flagged = N_("step {step} ({purpose}): {value} recorded with {flags}; reason: {reason}")
                params["reason"] = reading.reason
            else:
                flagged = N_("step {step} ({purpose}): {value} recorded with {flags}")
            found.append(ReviewWarning("flagged_reading", flagged.format(**params)))
    for item in corrections:
        original = item.get("original") or {}
        old = original.get("answer") if isinstance(original, Mapping) else None
        old_text = "—" if old is None else format_mass(Decimal(str(old)))
        found.append(
            ReviewWarning(
                "corrected_reading",
                N_("step {step}: {old} corrected by {by}; reason: {reason}").format(
                    step=str(int(item.get("index", 0)) + 1),
                    old=old_text,
                    by=str(item.get("by", "?")),
                    reason=str(item.get("reason", "")),
                ),
            )
        )
    return found


def record_warnings(record: Mapping[str, Any], flags: Iterable[Mapping[str, Any]]) -> list[ReviewWarning]:
    """Warnings of the run record: the server's flags about weights, and missing environmental conditions."""
    found = [
        ReviewWarning(str(flag.get("code", "")), _flag_message(str(flag.get("message", ""))))
        for flag in flags
        if str(flag.get("code", "")).startswith("weight_")
    ]
    if not record.get("environment") and not record.get("conditions"):
        found.append(
            ReviewWarning("missing_conditions", N_("no environmental conditions (temperature, pressure, humidity)"))
        )
    return found
