"""Event counters of legally relevant parameters: change detection across wrap-around and resets.

NIST Handbook 44 (sealing, Category 1 and 2 devices) asks for two event counters, one for calibration and one for
configuration parameters; a Category 3 device keeps an event logger whose counter runs 000-999 (HB 44 text recalled,
not read here: see docs/field.md).  Real indicators differ in their counter range: Ohaus CFG/CAL counters wrap
999 -> 000, Sartorius counts to 9 999, Cardinal 201 to 99 999 (manufacturers' manuals cited in docs/field.md).
A counter is therefore stored with its *modulus* (1 000, 10 000 or 100 000), and two readings are compared
modulo it.

Going from a higher to a lower value is ambiguous: either the counter wrapped after ``steps`` increments, or it was
reset (or replaced with the board).  :func:`counter_change` reports the wrap reading and says whether a reset is
the more plausible one: a wrap needing more than ``max_plausible_steps`` increments since the last report is read
as a reset.  That bound is this project's convention (default: a tenth of the modulus), not a figure of a standard;
either way the change itself is a broken seal unless a work order explains it.

>>> counter_change(998, 2, 1000)
CounterChange(previous=998, current=2, modulus=1000, steps=4, wrapped=True, reset=False)
>>> counter_change(417, 0, 1000).reset
True
>>> counter_change(5, 5, 1000).changed
False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hengqi.errors import InputError

#: Counter ranges found in real indicators (see the module docstring).
COUNTER_MODULI: Final[tuple[int, ...]] = (1000, 10000, 100000)


@dataclass(frozen=True, slots=True)
class CounterChange:
    """How an event counter moved between two reports.

    ``steps`` is the number of increments when the move is read forward modulo ``modulus`` (0: unchanged);
    ``wrapped`` is True when that reading passes through zero; ``reset`` is True when the forward reading is
    implausible (more than ``max_plausible_steps``) and the counter was more likely set back.
    """

    previous: int
    current: int
    modulus: int
    steps: int
    wrapped: bool
    reset: bool

    @property
    def changed(self) -> bool:
        """True when the counter moved at all (each move is one or more changes of sealed parameters)."""
        return self.steps != 0 or self.reset


def check_counter(value: int, modulus: int, *, path: str = "counter") -> int:
    """``value`` if it is a valid reading of a counter of that modulus, else :class:`InputError`.

    >>> check_counter(999, 1000)
    999
    """
    if modulus not in COUNTER_MODULI:
        raise InputError(f"{path}.modulus", f"must be one of {', '.join(map(str, COUNTER_MODULI))}, got {modulus}")
    if not 0 <= value < modulus:
        raise InputError(path, f"must be in 0..{modulus - 1}, got {value}")
    return value


def counter_change(
    previous: int, current: int, modulus: int, *, max_plausible_steps: int | None = None
) -> CounterChange:
    """Compare two readings of one event counter (see the module docstring for the wrap/reset reading).

    >>> counter_change(99998, 1, 100000).steps
    3
    >>> counter_change(9000, 10, 10000).reset  # 1 010 increments between two reports: read as a reset
    True
    """
    check_counter(previous, modulus, path="previous")
    check_counter(current, modulus, path="current")
    bound = modulus // 10 if max_plausible_steps is None else max_plausible_steps
    if bound < 1:
        raise InputError("max_plausible_steps", f"must be at least 1, got {bound}")
    steps = (current - previous) % modulus
    wrapped = current < previous
    if wrapped and steps > bound:
        return CounterChange(previous, current, modulus, steps=0, wrapped=False, reset=True)
    return CounterChange(previous, current, modulus, steps=steps, wrapped=wrapped and steps > 0, reset=False)
