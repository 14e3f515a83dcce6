"""Substitution of standard weights in a verification (OIML R 76-1:2006, 3.7.3, as cited; SECONDARY).

Where an instrument is tested with a load larger than the standard weights at hand, other material of constant
mass ("substitution load", ballast) may take the standard weights' place: the standard weights are put on, the
indication read; they are replaced by substitute material until the indication is the same; the standard weights
are put on again on top, and so on.  R 76-1:2006 3.7.3 limits how small the standard-weight part may be, by the
repeatability error of the instrument at that load:

- standard weights of at least **1/2 Max** in general;
- **1/3 Max** where the repeatability error is not greater than **0.3 e**;
- **1/5 Max** where it is not greater than **0.2 e**.

Source: the fractions and limits are the project's recollection of R 76-1:2006 3.7.3 (no stored copy of the clause
could be found: ``standards.md`` has no R 76-1 body text and the search corpora do not hold it), so they are SECONDARY
until checked against the Recommendation. "Not greater than" is taken inclusively; comparisons are exact
(``Decimal``). How the repeatability error is measured (here: the spread, max - min, of the indications before
rounding of the same load placed several times, :func:`repeatability_error`) is hengqi's reading of the term, not a
quoted rule.

>>> from decimal import Decimal as D
>>> standard_share_limit(D("20000"), D("60000"), D("20"))  # 1/3 Max: repeatability error at most 0.3 e
Decimal('6.0')
>>> check_substitution(D("20000"), D("60000"), repeatability_error_kg=D("6"), e_kg=D("20")).allowed
True
>>> check_substitution(D("20000"), D("60000"), repeatability_error_kg=D("6.5"), e_kg=D("20")).allowed
False
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from hengqi.errors import InputError
from hengqi.metrology.quantities import format_mass

#: Citation of the rule (the numbers are SECONDARY: clause text not read).
SUBSTITUTION_RULE = "OIML R 76-1:2006, 3.7.3"
#: (share of Max as (numerator, denominator), the largest repeatability error allowed in e; None: no condition),
#: from the largest share down.
SHARES: tuple[tuple[tuple[int, int], Decimal | None], ...] = (
    ((1, 2), None),
    ((1, 3), Decimal("0.3")),
    ((1, 5), Decimal("0.2")),
)


def _share_text(share: tuple[int, int]) -> str:
    return f"{share[0]}/{share[1]} Max"


def standard_share(standard_kg: Decimal, max_kg: Decimal) -> tuple[int, int] | None:
    """The largest share of :data:`SHARES` that ``standard_kg`` reaches (exact), or ``None`` (below 1/5 Max).

    >>> from decimal import Decimal as D
    >>> standard_share(D("20000"), D("60000")), standard_share(D("11999"), D("60000"))
    ((1, 3), None)
    """
    if max_kg <= 0:
        raise InputError("max", f"must be positive, got {max_kg}")
    for share, _limit in SHARES:
        numerator, denominator = share
        if standard_kg * denominator >= max_kg * numerator:
            return share
    return None


def standard_share_limit(standard_kg: Decimal, max_kg: Decimal, e_kg: Decimal) -> Decimal | None:
    """The largest repeatability error (kg) under which ``standard_kg`` of standard weights suffice, ``None`` where
    they are at least 1/2 Max (no condition); :class:`InputError` where they are below 1/5 Max (never allowed)."""
    share = standard_share(standard_kg, max_kg)
    if share is None:
        raise InputError(
            "reference_weights",
            f"the standard weights ({format_mass(standard_kg)}) are less than 1/5 Max ({format_mass(max_kg / 5)}): "
            f"{SUBSTITUTION_RULE} allows substitution only with standard weights of at least 1/5 Max",
        )
    limit = dict(SHARES)[share]
    return None if limit is None else limit * e_kg


@dataclass(frozen=True, slots=True)
class SubstitutionCheck:
    """Whether ``standard_kg`` of standard weights may be used for substitution on an instrument of ``max_kg``
    given the repeatability error measured; ``message`` says why, naming the rule."""

    standard_kg: Decimal
    max_kg: Decimal
    repeatability_error_kg: Decimal
    limit_kg: Decimal | None
    allowed: bool
    message: str


def check_substitution(
    standard_kg: Decimal, max_kg: Decimal, *, repeatability_error_kg: Decimal, e_kg: Decimal
) -> SubstitutionCheck:
    """Check the share of standard weights against the repeatability error measured (see the module).

    >>> from decimal import Decimal as D
    >>> check_substitution(D("12000"), D("60000"), repeatability_error_kg=D("4"), e_kg=D("20")).allowed
    True
    >>> check_substitution(D("12000"), D("60000"), repeatability_error_kg=D("4.01"), e_kg=D("20")).message[:48]
    'repeatability error 4.01 kg is more than 0.2 e ='
    """
    if repeatability_error_kg < 0:
        raise InputError("repeatability_error", f"must not be negative, got {repeatability_error_kg}")
    limit = standard_share_limit(standard_kg, max_kg, e_kg)
    share = standard_share(standard_kg, max_kg)
    assert share is not None  # standard_share_limit raised otherwise
    text = _share_text(share)
    if limit is None:
        return SubstitutionCheck(
            standard_kg, max_kg, repeatability_error_kg, None, True,
            f"standard weights {format_mass(standard_kg)} >= 1/2 Max ({SUBSTITUTION_RULE})",
        )  # fmt: skip
    in_e = limit / e_kg
    if repeatability_error_kg <= limit:
        return SubstitutionCheck(
            standard_kg, max_kg, repeatability_error_kg, limit, True,
            f"standard weights {format_mass(standard_kg)} >= {text}: repeatability error "
            f"{format_mass(repeatability_error_kg)} <= {in_e.normalize()} e = {format_mass(limit)} "
            f"({SUBSTITUTION_RULE})",
        )  # fmt: skip
    return SubstitutionCheck(
        standard_kg, max_kg, repeatability_error_kg, limit, False,
        f"repeatability error {format_mass(repeatability_error_kg)} is more than {in_e.normalize()} e = "
        f"{format_mass(limit)}: with standard weights of {format_mass(standard_kg)} (less than 1/2 Max) "
        f"{SUBSTITUTION_RULE} does not allow substitution; use standard weights of at least "
        f"{format_mass(max_kg / 2)} (1/2 Max)",
    )  # fmt: skip


def repeatability_error(values_kg: Sequence[Decimal]) -> Decimal:
    """The spread (max - min) of indications (before rounding, where known) of the same load placed repeatedly.

    >>> from decimal import Decimal as D
    >>> repeatability_error([D("20000"), D("20004"), D("19998")])
    Decimal('6')
    """
    if len(values_kg) < 2:
        raise InputError("repeatability_error", "needs at least two indications of the same load")
    return max(values_kg) - min(values_kg)
