"""Legal-metrology look-ups: ``hengqi mpe``, ``hengqi weights mpe``, ``hengqi rules``.

Every number is exact (Decimal) until it is printed; ``--json`` prints kilograms as JSON numbers. Bad input
raises :class:`~hengqi.errors.InputError` naming the option, which the boundary prints as one line (exit 2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from hengqi.errors import InputError
from hengqi.metrology.classes import AccuracyClass, InstrumentKind, InstrumentSpecification, parse_accuracy_class
from hengqi.metrology.mpe import MpeDetermination, determine_mpe, mpe_for_interval
from hengqi.metrology.quantities import format_mass, parse_mass
from hengqi.metrology.rulesets import RuleSet, get_rule_set, parse_stage, rule_sets
from hengqi.metrology.weights import RULE_R111_TABLE_1, parse_weight_class, weight_mpe, weight_mpe_mg

EXIT_OK = 0

#: Field paths of the core mapped to the options that carry them.
_OPTION_OF = {
    "accuracy_class": "--class",
    "class": "--class",
    "max": "--max",
    "min": "--min",
    "e": "--e",
    "d": "--d",
    "load": "--load",
    "load_in_e": "--load",
    "stage": "--stage",
    "rules": "--rules",
    "nominal": "--nominal",
    "range": "--use-range",
    "ranges": "--range",
    "kind": "--kind",
}


def _as_option(err: InputError) -> InputError:
    """The same complaint, naming the command-line option instead of the field."""
    head = err.path.split(".", 1)[0].split("[", 1)[0]
    option = _OPTION_OF.get(head)
    if option is None:
        return err
    return InputError(option, err.reason, details=err.details)


def _required(value: str | None, option: str) -> str:
    if value is None or not value.strip():
        raise InputError(option, "is required")
    return value


def _number(value: Decimal) -> float | int:
    """A Decimal as a JSON number (int when integral; floats print their shortest decimal form)."""
    if value == value.to_integral_value() and abs(value) < 10**15:
        return int(value)
    return float(value)


def _echo_json(data: Mapping[str, Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _parse_ranges(texts: tuple[str, ...]) -> list[tuple[str, str]]:
    """``("6 kg/2 g", "15 kg/5 g")`` -> ``[("6 kg", "2 g"), ("15 kg", "5 g")]``."""
    pairs = []
    for text in texts:
        parts = text.split("/")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise InputError("--range", f"expected MAX/e such as '6 kg/2 g', got {text!r}")
        pairs.append((parts[0].strip(), parts[1].strip()))
    return pairs


def _range_number(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise InputError("--use-range", f"expected a range number counting from 1, got {text!r}")
    return int(text)


def _specification(
    *, cls: AccuracyClass, e: str | None, max_: str | None, min_: str | None, d: str | None, ranges: tuple[str, ...],
    kind: str | None,
) -> InstrumentSpecification | None:  # fmt: skip
    """The instrument specification the options describe, or ``None`` when only class and e are given."""
    if ranges:
        if len(ranges) < 2:
            raise InputError("--range", "give one --range per partial/weighing range (at least two), or use --max")
        if kind is None:
            raise InputError("--kind", "with --range say multi-interval or multiple-range")
        return InstrumentSpecification.create(
            accuracy_class=cls, kind=kind, ranges=_parse_ranges(ranges), max=max_, e=e, d=d, min=min_
        )
    if kind is not None and kind.strip().lower() != "single-interval":
        raise InputError("--kind", "multi-interval and multiple-range instruments need --range for each range")
    if max_ is None:
        if min_ is not None or d is not None:
            raise InputError("--min" if min_ is not None else "--d", "needs --max (a specification to check)")
        return None
    return InstrumentSpecification.create(accuracy_class=cls, max=max_, e=_required(e, "--e"), d=d, min=min_)


@click.command("mpe")
@click.option("--class", "accuracy_class", help="Accuracy class: I, II, III or IIII.")
@click.option("--e", "e", help='Verification scale interval, e.g. "5 g" (e1 with --range).')
@click.option("--load", help='Load, e.g. "2.5 kg".')
@click.option("--max", "max_", help="Max; with it the specification is checked against its class.")
@click.option("--min", "min_", help="Declared Min (default: the class's lower limit).")
@click.option("--d", "d", help="Actual scale interval d (auxiliary indicating device, classes I and II).")
@click.option("--kind", help="single-interval (default), multi-interval or multiple-range.")
@click.option("--range", "ranges", multiple=True, help='A range as MAX/e, e.g. "6 kg/2 g"; repeat for each.')
@click.option("--use-range", help="Multiple-range: the range in use (1 = first; default: smallest that fits).")
@click.option("--stage", default="initial", show_default=True, help="initial, subsequent or in-service.")
@click.option("--rules", default="oiml-r76", show_default=True, help="Rule set id (see `hengqi rules`).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def mpe_cmd(
    *,
    accuracy_class: str | None,
    e: str | None,
    load: str | None,
    max_: str | None,
    min_: str | None,
    d: str | None,
    kind: str | None,
    ranges: tuple[str, ...],
    use_range: str | None,
    stage: str,
    rules: str,
    as_json: bool,
) -> int:
    """Maximum permissible error at a load (OIML R 76-1:2006 Table 6 or another rule set).

    Example: hengqi mpe --class III --e "5 g" --load "2.5 kg" --max "15 kg"
    """
    try:
        cls = parse_accuracy_class(_required(accuracy_class, "--class"))
        load_kg = parse_mass(_required(load, "--load"), path="load")
        stage_value = parse_stage(stage)
        rule_set = get_rule_set(rules)
        spec = _specification(cls=cls, e=e, max_=max_, min_=min_, d=d, ranges=ranges, kind=kind)
        range_number = None if use_range is None else _range_number(use_range)
        if range_number is not None and spec is None:
            raise InputError("--use-range", "needs --range (a multiple-range instrument)")
        if spec is None:
            e_kg = parse_mass(_required(e, "--e"), path="e")
            found = mpe_for_interval(load_kg, cls, e_kg, stage=stage_value, rules=rule_set)
        else:
            index = None if range_number is None else range_number - 1
            found = determine_mpe(load_kg, spec, stage=stage_value, rules=rule_set, range_index=index)
    except InputError as err:
        raise _as_option(err) from err
    if as_json:
        _echo_json(_mpe_json(found, spec))
        return EXIT_OK
    _print_mpe(found, spec, rule_set)
    return EXIT_OK


def _mpe_json(found: MpeDetermination, spec: InstrumentSpecification | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "mpe_kg": _number(found.mpe_kg),
        "mpe_e": _number(found.mpe_e),
        "load_kg": _number(found.load_kg),
        "e_kg": _number(found.e_kg),
        "load_in_e": _number(found.load_in_e),
        "class": found.accuracy_class.value,
        "stage": found.stage.value,
        "rules": found.rules,
        "rule": found.rule,
        "spec_checked": found.spec_checked,
    }
    if spec is not None:
        data["kind"] = spec.kind.value
        data["range"] = found.range_index + 1
        data["max_kg"] = _number(spec.max_kg)
        data["min_kg"] = _number(spec.min_kg)
        data["d_kg"] = _number(spec.d_kg)
        data["n"] = _number(spec.n)
    return data


def _print_mpe(found: MpeDetermination, spec: InstrumentSpecification | None, rule_set: RuleSet) -> None:
    table = Table(title="Maximum permissible error", show_header=False)
    table.add_column("quantity", style="bold")
    table.add_column("value")
    table.add_row("class", found.accuracy_class.value)
    table.add_row("e" if spec is None or len(spec.ranges) == 1 else "e(i) at the load", format_mass(found.e_kg))
    if spec is not None:
        table.add_row("Max / Min / n", f"{format_mass(spec.max_kg)} / {format_mass(spec.min_kg)} / {spec.n}")
        if len(spec.ranges) > 1:
            parts = ", ".join(f"{format_mass(r.max_kg)}/{format_mass(r.e_kg)}" for r in spec.ranges)
            table.add_row(spec.kind.value, f"{parts} (range {found.range_index + 1} used)")
        if spec.has_auxiliary_device:
            table.add_row("d", format_mass(spec.d_kg))
    table.add_row("load", f"{format_mass(found.load_kg)} = {_plain(found.load_in_e)} e")
    table.add_row("stage", found.stage.value)
    table.add_row("rules", f"{rule_set.id} ({rule_set.confidence})")
    table.add_row("MPE", f"± {_plain(found.mpe_e)} e = ± {format_mass(found.mpe_kg)}")
    table.add_row("rule", found.rule)
    console = _console()
    console.print(table)
    if spec is None:
        console.print("specification not checked (no --max given): MPE from class, e and load alone")
    else:
        table_name = "3.3, Table 2" if spec.kind is InstrumentKind.MULTI_INTERVAL else "Table 3"
        console.print(f"specification checked against its class (OIML R 76-1:2006, {table_name})")


@click.group("weights")
def weights_group() -> None:
    """Weights of OIML R 111-1:2004."""


@weights_group.command("mpe")
@click.option("--class", "weight_class", help="Weight class: E1, E2, F1, F2, M1, M1-2, M2, M2-3 or M3.")
@click.option("--nominal", help='Nominal value, e.g. "100 g".')
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def weights_mpe_cmd(*, weight_class: str | None, nominal: str | None, as_json: bool) -> int:
    """Maximum permissible error of a weight (OIML R 111-1:2004, Table 1)."""
    try:
        cls = parse_weight_class(_required(weight_class, "--class"))
        nominal_kg = parse_mass(_required(nominal, "--nominal"), path="nominal")
        mpe_kg = weight_mpe(cls, nominal_kg)
        mpe_mg = weight_mpe_mg(cls, nominal_kg)
    except InputError as err:
        raise _as_option(err) from err
    if as_json:
        _echo_json(
            {
                "mpe_kg": _number(mpe_kg),
                "mpe_mg": _number(mpe_mg),
                "class": cls.value,
                "nominal_kg": _number(nominal_kg),
                "rule": RULE_R111_TABLE_1,
            }
        )
        return EXIT_OK
    table = Table(title="Weight MPE", show_header=False)
    table.add_column("quantity", style="bold")
    table.add_column("value")
    table.add_row("class", cls.value)
    table.add_row("nominal", format_mass(nominal_kg))
    table.add_row("MPE", f"± {_plain(mpe_mg)} mg")
    table.add_row("rule", RULE_R111_TABLE_1)
    _console().print(table)
    return EXIT_OK


def _rule_set_json(rule_set: RuleSet) -> dict[str, Any]:
    return {
        "id": rule_set.id,
        "title": rule_set.title,
        "document": rule_set.document,
        "edition": rule_set.edition,
        "confidence": rule_set.confidence,
        "classes": [c.value for c in rule_set.classes],
        "stages": {stage.value: _number(factor) for stage, factor in rule_set.stage_multipliers},
        "bands": {
            entry.accuracy_class.value: [
                [None if band.upper_e is None else _number(band.upper_e), _number(band.mpe_e)] for band in entry.bands
            ]
            for entry in rule_set.bands
        },
        "edge": rule_set.edge,
        "citations": dict(rule_set.citations),
        "notes": list(rule_set.notes),
    }


@click.command("rules")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rules_cmd(as_json: bool) -> int:
    """The MPE rule sets available, with their sources and confidence."""
    available = rule_sets()
    if as_json:
        _echo_json({"rule_sets": [_rule_set_json(rule_set) for rule_set in available]})
        return EXIT_OK
    table = Table(title="MPE rule sets")
    for column in ("id", "title", "source", "classes", "stages (x initial)", "confidence"):
        table.add_column(column)
    for rule_set in available:
        stages = ", ".join(f"{stage.value} x{_plain(factor)}" for stage, factor in rule_set.stage_multipliers)
        table.add_row(
            rule_set.id,
            rule_set.title,
            rule_set.citation("bands") or f"{rule_set.document}:{rule_set.edition}",
            " ".join(c.value for c in rule_set.classes),
            stages,
            rule_set.confidence,
        )
    console = _console()
    console.print(table)
    for rule_set in available:
        console.print(f"[bold]{rule_set.id}[/bold]: {rule_set.document}:{rule_set.edition}")
        for note in rule_set.notes:
            console.print(f"  - {note}", markup=False)
    return EXIT_OK


COMMANDS = (mpe_cmd, weights_group, rules_cmd)
