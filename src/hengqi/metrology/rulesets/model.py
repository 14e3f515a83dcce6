"""Rule sets: the MPE bands of a verification regulation as data, plus the small code that reads them.

A :class:`RuleSet` holds, per accuracy class, the bands of Table 6 style tables as ``(upper bound in e, MPE in
e)`` pairs, the multiplier for each verification stage, the citations and a statement of how sure the values
are. The engine (:mod:`hengqi.metrology.mpe`) knows nothing of any particular regulation, so a national set
(NIST Handbook 44, a new JJG edition, ...) is added as data with :func:`rule_set_from_mapping` and
:func:`hengqi.metrology.rulesets.register_rule_set`, without touching the engine.

Band convention: bands are listed in increasing order; a load of m e belongs to the first band whose upper bound
it does not exceed (``edge="lower"``: a load exactly on an edge takes the lower, smaller MPE, as printed in OIML
R 76-1:2006 Table 6: "0 <= m <= 500 e", "500 e < m <= 2 000 e"). ``edge="upper"`` puts an edge load in the upper
band instead, for regulations printed the other way round. The last band may be open (``None``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final, Literal

from hengqi.errors import InputError, RuleSetError
from hengqi.metrology.classes import AccuracyClass, parse_accuracy_class

EdgeConvention = Literal["lower", "upper"]
_ID_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class Stage(StrEnum):
    """When the instrument is examined: initial verification, subsequent verification, or in service."""

    INITIAL = "initial"
    SUBSEQUENT = "subsequent"
    IN_SERVICE = "in-service"


def parse_stage(value: Stage | str, *, path: str = "stage") -> Stage:
    """Read a stage as written (``"in-service"``, ``"in_service"``, ``"In Service"``).

    >>> parse_stage("in_service")
    <Stage.IN_SERVICE: 'in-service'>
    """
    if isinstance(value, Stage):
        return value
    text = re.sub(r"[\s_]+", "-", str(value).strip().lower())
    try:
        return Stage(text)
    except ValueError:
        known = ", ".join(s.value for s in Stage)
        raise RuleSetError(path, f"unknown stage {value!r} (known: {known})") from None


@dataclass(frozen=True, slots=True)
class Band:
    """One MPE band: loads up to ``upper_e`` (in e; ``None`` = no upper bound) have MPE ``mpe_e`` (in e)."""

    upper_e: Decimal | None
    mpe_e: Decimal


@dataclass(frozen=True, slots=True)
class ClassBands:
    """The MPE bands of one accuracy class, in increasing order of load."""

    accuracy_class: AccuracyClass
    bands: tuple[Band, ...]


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A verification regulation's MPE rules as data; checked on construction (raises :class:`RuleSetError`).

    ``citations`` are ``(topic, citation)`` pairs; topics ``"bands"`` and the stage names are used in results.
    ``confidence`` says how the values are known (e.g. ``"CONFIRMED"``, ``"SECONDARY"``); ``notes`` say where
    from and what was not found. ``overrange_e`` (9 in R 76) is how far beyond the top printed band edge a load
    may go: Table 3 caps n = Max/e at the top edge of Table 6, and an instrument indicates up to Max + 9 e.
    """

    id: str
    title: str
    document: str
    edition: str
    citations: tuple[tuple[str, str], ...]
    bands: tuple[ClassBands, ...]
    stage_multipliers: tuple[tuple[Stage, Decimal], ...]
    confidence: str
    notes: tuple[str, ...] = ()
    edge: EdgeConvention = "lower"
    overrange_e: Decimal = Decimal(9)

    def __post_init__(self) -> None:
        _check_rule_set(self)

    @property
    def classes(self) -> tuple[AccuracyClass, ...]:
        """The accuracy classes this rule set covers."""
        return tuple(entry.accuracy_class for entry in self.bands)

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages this rule set covers."""
        return tuple(stage for stage, _ in self.stage_multipliers)

    def bands_for(self, accuracy_class: AccuracyClass | str) -> tuple[Band, ...]:
        """The bands of a class; :class:`RuleSetError` if this rule set does not cover it."""
        cls = parse_accuracy_class(accuracy_class)
        for entry in self.bands:
            if entry.accuracy_class == cls:
                return entry.bands
        covered = ", ".join(c.value for c in self.classes)
        raise RuleSetError("accuracy_class", f"rule set {self.id!r} does not cover class {cls} (covers: {covered})")

    def multiplier(self, stage: Stage | str) -> Decimal:
        """The factor applied to the band MPE at a stage; :class:`RuleSetError` if not covered."""
        wanted = parse_stage(stage)
        for known, factor in self.stage_multipliers:
            if known is wanted:
                return factor
        covered = ", ".join(s.value for s in self.stages)
        raise RuleSetError("stage", f"rule set {self.id!r} does not cover stage {wanted} (covers: {covered})")

    def citation(self, topic: str) -> str | None:
        """The citation recorded for a topic, or ``None``."""
        for name, text in self.citations:
            if name == topic:
                return text
        return None

    def rule_for(self, stage: Stage | str) -> str:
        """The citation for an MPE at a stage: the bands' citation, then the stage's if one is recorded."""
        wanted = parse_stage(stage)
        parts = [self.citation("bands") or f"{self.document}:{self.edition}"]
        stage_text = self.citation(wanted.value)
        if stage_text:
            parts.append(stage_text)
        return "; ".join(parts)

    def band_values(self, accuracy_class: AccuracyClass | str, stage: Stage | str) -> tuple[Decimal, ...]:
        """Every MPE (in e) a class can have at a stage, lowest first."""
        factor = self.multiplier(stage)
        return tuple(band.mpe_e * factor for band in self.bands_for(accuracy_class))


def _check_rule_set(rule_set: RuleSet) -> None:
    if not _ID_PATTERN.match(rule_set.id):
        raise RuleSetError("id", f"{rule_set.id!r} is not a rule set id (lower-case letters, digits, '-', '.', '_')")
    for name in ("title", "document", "edition", "confidence"):
        if not str(getattr(rule_set, name)).strip():
            raise RuleSetError(name, "must not be empty")
    if rule_set.edge not in ("lower", "upper"):
        raise RuleSetError("edge", f"must be 'lower' or 'upper', got {rule_set.edge!r}")
    if not rule_set.bands:
        raise RuleSetError("bands", "at least one accuracy class is needed")
    seen_classes: set[AccuracyClass] = set()
    for entry in rule_set.bands:
        path = f"bands.{entry.accuracy_class}"
        if entry.accuracy_class in seen_classes:
            raise RuleSetError(path, "class listed twice")
        seen_classes.add(entry.accuracy_class)
        _check_bands(entry.bands, path)
    if not rule_set.stage_multipliers:
        raise RuleSetError("stages", "at least one stage is needed")
    seen_stages: set[Stage] = set()
    for stage, factor in rule_set.stage_multipliers:
        if stage in seen_stages:
            raise RuleSetError(f"stages.{stage}", "stage listed twice")
        seen_stages.add(stage)
        if not _positive(factor):
            raise RuleSetError(f"stages.{stage}", f"multiplier must be a positive number, got {factor!r}")
    if not isinstance(rule_set.overrange_e, Decimal) or rule_set.overrange_e < 0:
        raise RuleSetError("overrange_e", "must be a Decimal >= 0")


def _positive(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value > 0


def _check_bands(bands: Sequence[Band], path: str) -> None:
    if not bands:
        raise RuleSetError(path, "at least one band is needed")
    previous_upper = Decimal(0)
    previous_mpe = Decimal(0)
    for i, band in enumerate(bands):
        where = f"{path}[{i}]"
        if not _positive(band.mpe_e):
            raise RuleSetError(f"{where}.mpe_e", f"must be a positive number, got {band.mpe_e!r}")
        if band.mpe_e < previous_mpe:
            raise RuleSetError(f"{where}.mpe_e", "MPE must not decrease as the load grows")
        previous_mpe = band.mpe_e
        if band.upper_e is None:
            if i != len(bands) - 1:
                raise RuleSetError(f"{where}.up_to_e", "only the last band may be open-ended")
            continue
        if not _positive(band.upper_e) or band.upper_e <= previous_upper:
            raise RuleSetError(f"{where}.up_to_e", "band edges must be positive and strictly increasing")
        previous_upper = band.upper_e


def _decimal(value: object, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise RuleSetError(path, f"expected a number, got {value!r}")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise RuleSetError(path, f"not a number: {value!r}") from None
    if not number.is_finite():
        raise RuleSetError(path, f"must be finite, got {value!r}")
    return number


def _text(data: Mapping[str, object], key: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise RuleSetError(key, "is required (non-empty text)")
    return value.strip()


def _band(item: object, path: str) -> Band:
    if isinstance(item, Mapping):
        if "mpe_e" not in item:
            raise RuleSetError(path, "a band needs 'mpe_e' (and 'up_to_e', null for the open top band)")
        upper, mpe_value = item.get("up_to_e"), item["mpe_e"]
    elif isinstance(item, list | tuple) and len(item) == 2:
        upper, mpe_value = item
    else:
        raise RuleSetError(path, "a band is {up_to_e: ..., mpe_e: ...} or [up_to_e, mpe_e]")
    return Band(None if upper is None else _decimal(upper, f"{path}.up_to_e"), _decimal(mpe_value, f"{path}.mpe_e"))


def rule_set_from_mapping(data: Mapping[str, object]) -> RuleSet:
    """Build a :class:`RuleSet` from plain data (as read from YAML or JSON); :class:`RuleSetError` names the field.

    Keys: ``id``, ``title``, ``document``, ``edition``, ``confidence`` (text); ``citations`` (topic -> text;
    topic ``bands`` and stage names are shown with results); ``bands`` (class -> list of ``{up_to_e, mpe_e}``
    or ``[up_to_e, mpe_e]``, ``up_to_e`` null for an open top band); ``stages`` (stage -> multiplier);
    optional ``notes`` (list of text), ``edge`` (``lower``/``upper``), ``overrange_e``. Numbers may be given
    as text (``"0.5"``) to keep them exact.

    >>> rs = rule_set_from_mapping({
    ...     "id": "example", "title": "Example", "document": "Example rules", "edition": "0", "confidence": "TEST",
    ...     "bands": {"III": [[100, "1"], [None, "2"]]}, "stages": {"initial": 1, "in-service": 2},
    ... })
    >>> rs.band_values("III", "in-service")
    (Decimal('2'), Decimal('4'))
    """
    if not isinstance(data, Mapping):
        raise RuleSetError("", f"a rule set is a mapping, got {type(data).__name__}")
    known_keys = {
        "id", "title", "document", "edition", "confidence", "citations", "bands", "stages", "notes", "edge",
        "overrange_e",
    }  # fmt: skip
    unknown = sorted(str(key) for key in data if key not in known_keys)
    if unknown:
        raise RuleSetError(unknown[0], f"unknown key (known: {', '.join(sorted(known_keys))})")
    citations_data = data.get("citations") or {}
    if not isinstance(citations_data, Mapping):
        raise RuleSetError("citations", "must map topics to citation text")
    citations = tuple((str(topic), str(text)) for topic, text in citations_data.items())
    bands_data = data.get("bands")
    if not isinstance(bands_data, Mapping) or not bands_data:
        raise RuleSetError("bands", "must map accuracy classes to lists of bands")
    bands: list[ClassBands] = []
    for cls_name, items in bands_data.items():
        path = f"bands.{cls_name}"
        try:
            cls = parse_accuracy_class(str(cls_name), path=path)
        except InputError as err:
            raise RuleSetError(path, err.reason) from err
        if not isinstance(items, list | tuple):
            raise RuleSetError(path, "must be a list of bands")
        bands.append(ClassBands(cls, tuple(_band(item, f"{path}[{i}]") for i, item in enumerate(items))))
    stages_data = data.get("stages")
    if not isinstance(stages_data, Mapping) or not stages_data:
        raise RuleSetError("stages", "must map stages (initial, subsequent, in-service) to multipliers")
    stages = tuple(
        (parse_stage(str(name), path=f"stages.{name}"), _decimal(factor, f"stages.{name}"))
        for name, factor in stages_data.items()
    )
    notes_data = data.get("notes") or ()
    if isinstance(notes_data, str) or not isinstance(notes_data, list | tuple):
        raise RuleSetError("notes", "must be a list of text")
    edge = data.get("edge", "lower")
    if edge not in ("lower", "upper"):
        raise RuleSetError("edge", f"must be 'lower' or 'upper', got {edge!r}")
    overrange = _decimal(data.get("overrange_e", 9), "overrange_e")
    return RuleSet(
        id=_text(data, "id"),
        title=_text(data, "title"),
        document=_text(data, "document"),
        edition=_text(data, "edition"),
        citations=citations,
        bands=tuple(bands),
        stage_multipliers=stages,
        confidence=_text(data, "confidence"),
        notes=tuple(str(note) for note in notes_data),
        edge="upper" if edge == "upper" else "lower",
        overrange_e=overrange,
    )
