"""``hengqi verify RECORD``: evaluate a verification record; ``hengqi schema KIND``: print a record's JSON Schema.

``hengqi verify`` reads a verification record (``docs/verification-record.md``), evaluates every test it holds
against OIML R 76-1 (or the rule set named) and prints a report, or the JSON document of
:mod:`hengqi.records.verification_report` with ``--json``.  Exit status: 0 pass, 1 fail, 2 invalid input (one
line on stderr naming the field path and the reason).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hengqi.cli.files import write_atomic
from hengqi.errors import InputError
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.quantities import format_mass, to_unit
from hengqi.metrology.r76 import Check, PointResult, TestResult, Verdict, VerificationResult
from hengqi.metrology.rulesets import Stage, get_rule_set, parse_stage
from hengqi.records.schemas import record_kinds, schema_text
from hengqi.records.verification import (
    VerificationRecord,
    evaluate,
    instrument_specification,
    load_verification_record,
    result_document,
)

EXIT_PASS = 0
EXIT_FAIL = 1
_STYLE = {Verdict.PASS: "bold green", Verdict.FAIL: "bold red"}
_VALUE_NAME = {
    Check.SPREAD: "spread",
    Check.CHANGE: "change",
    Check.ZERO_DEVIATION: "deviation",
    Check.TEST_LOAD: "load",
    Check.WEIGHTS: "Σ weights",
}


def _option(err: InputError, option: str) -> InputError:
    return InputError(option, err.reason, details=err.details)


def _console() -> Console:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console = Console(highlight=False, soft_wrap=False, width=120)
    return console


def _error_unit(spec: InstrumentSpecification) -> str:
    """Errors and limits are shown in g (kg on instruments with e of 1 kg or more)."""
    return "kg" if spec.ranges[-1].e_kg >= 1 else "g"


def _load_unit(spec: InstrumentSpecification) -> str:
    """Loads and indications are shown in the largest of kg, g, mg that writes d with at most three decimals."""
    for unit in ("kg", "g"):
        if to_unit(spec.d_kg, unit) >= Decimal("0.001"):
            return unit
    return "mg"


def _signed(kg: Decimal | None, unit: str) -> str:
    if kg is None:
        return ""
    text = format_mass(kg, unit)
    return f"+{text}" if kg > 0 else text


def _row(point: PointResult, unit: str, load_unit: str) -> tuple[str, ...]:
    load = format_mass(point.load_kg, load_unit)
    indication = "" if point.indication_kg is None else format_mass(point.indication_kg, load_unit)
    verdict = Text(point.verdict.value.upper() if not point.passed else "pass", style=_STYLE[point.verdict])
    if point.check is Check.ERROR:
        limit = f"±{format_mass(point.mpe_kg, unit)}" if point.mpe_kg is not None else ""
        return (point.label, load, indication, _signed(point.error_kg, unit),
                _signed(point.corrected_error_kg, unit), limit, verdict)  # type: ignore[return-value]  # fmt: skip
    value_unit = load_unit if point.check is Check.TEST_LOAD else unit
    value = "" if point.value_kg is None else format_mass(point.value_kg, value_unit)
    if point.check is Check.ZERO_DEVIATION and point.value_kg is not None:
        value = _signed(point.value_kg, unit)
    relation = "≥" if point.check in (Check.CHANGE, Check.TEST_LOAD) else "≤"
    limit_kg = point.limit_kg
    limit = "" if limit_kg is None else f"{relation} {_short(limit_kg, value_unit)}"
    if point.check is Check.ZERO_DEVIATION and limit_kg is not None:
        limit = f"±{_short(limit_kg, unit)}"
    return (point.label, load, indication, f"{_VALUE_NAME[point.check]} {value}", "", limit,
            verdict)  # type: ignore[return-value]  # fmt: skip


def _short(kg: Decimal, unit: str) -> str:
    text = format_mass(kg, unit)
    number, _, symbol = text.partition(" ")
    if len(number.replace(".", "").replace("-", "")) > 8:
        number = format(Decimal(number).quantize(Decimal("0.0001")).normalize(), "f")
    return f"{number} {symbol}"


def _test_table(test: TestResult, unit: str, load_unit: str) -> Table:
    title = Text.assemble((test.name, "bold"), "  ", (test.verdict.value.upper(), _STYLE[test.verdict]))
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False, expand=False)
    for name, justify in (("point", "left"), ("load", "right"), ("indication", "right"), ("E", "right"),
                          ("Ec", "right"), ("MPE / limit", "right"), ("result", "left")):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for point in test.points:
        table.add_row(*_row(point, unit, load_unit))
    return table


def _rules_of(test: TestResult) -> list[str]:
    seen: list[str] = []
    for point in test.points:
        for part in point.rule.split("; "):
            if part not in seen:
                seen.append(part)
    return seen


def _report(
    console: Console,
    source: str,
    record: VerificationRecord,
    spec: InstrumentSpecification,
    result: VerificationResult,
    *,
    rules: str,
    stage: Stage,
) -> None:
    instrument = record.instrument
    identity = " ".join(part for part in (instrument.make, instrument.model) if part)
    serial = f", serial {instrument.serial}" if instrument.serial else ""
    console.print(Text.assemble(("Verification of ", "bold"), (instrument.id, "bold"), f"  {identity}{serial}"))
    unit, load_unit = _error_unit(spec), _load_unit(spec)
    ranges = ", ".join(
        f"{format_mass(part.max_kg, load_unit)} / e = {format_mass(part.e_kg, unit)}" for part in spec.ranges
    )
    d = f", d = {format_mass(spec.d_kg, unit)}" if spec.d_kg != spec.e_kg else ""
    minimum = format_mass(spec.min_kg, load_unit)
    console.print(f"class {spec.accuracy_class.value}, {spec.kind.value}: Max {ranges}{d}, Min {minimum}")
    console.print(f"record {source}; {record.date.isoformat()}, {record.operator}; rules {rules}, stage {stage.value}")
    for test in result.tests:
        console.print()
        console.print(_test_table(test, unit, load_unit))
        for note in test.notes:
            console.print(Text(f"  note: {note}", style="dim"))
        console.print(Text(f"  rules: {'; '.join(_rules_of(test))}", style="dim"))
    console.print()
    for note in result.notes:
        console.print(Text(f"note: {note}", style="dim"))
    console.print(Text.assemble(("VERDICT: ", "bold"), (result.verdict.value.upper(), _STYLE[result.verdict])))
    if record.expected_verdict is not None and record.expected_verdict != result.verdict.value:
        console.print(Text(f"(the record expected {record.expected_verdict})", style="yellow"))
    if result.failing_points:
        console.print(Text(f"{len(result.failing_points)} failing point(s):", style="bold red"))
    for failing in result.failing_points:
        point = failing.point
        where = f"{failing.test}, {point.label}" if point.label else failing.test
        console.print(f"  - {where}: load {format_mass(point.load_kg, load_unit)}: {point.message}")
        console.print(Text(f"    rule: {point.rule}", style="dim"))


@click.command("verify")
@click.argument("record", type=click.Path(path_type=Path))
@click.option("--rules", help="MPE rule set, overriding the record's: oiml-r76 or jjg539.")
@click.option("--stage", help="Verification stage, overriding the record's: initial, subsequent or in-service.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (masses in kg).")
def verify(record: Path, rules: str | None, stage: str | None, as_json: bool) -> int:
    """Evaluate a verification RECORD (YAML) against OIML R 76-1; exit 0 pass, 1 fail, 2 invalid input."""
    try:
        rule_set = get_rule_set(rules) if rules is not None else None
    except InputError as err:
        raise _option(err, "--rules") from None
    try:
        stage_override = parse_stage(stage) if stage is not None else None
    except InputError as err:
        raise _option(err, "--stage") from None
    data = load_verification_record(record)
    rules_id = rule_set.id if rule_set is not None else data.rules
    stage_value = stage_override if stage_override is not None else data.stage
    spec = instrument_specification(data.instrument.specification)
    result = evaluate(data, rules=rules_id, stage=stage_value)
    if as_json:
        document = result_document(data, spec, result, rules=rules_id, stage=stage_value, source=str(record))
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        _report(_console(), str(record), data, spec, result, rules=rules_id, stage=stage_value)
    return EXIT_PASS if result.verdict is Verdict.PASS else EXIT_FAIL


@click.command("schema")
@click.argument("kind", required=False)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
def schema(kind: str | None, output: Path | None) -> int:
    """Print the JSON Schema of a record KIND (without KIND: list the kinds)."""
    if kind is None:
        for name in record_kinds():
            click.echo(name)
        return EXIT_PASS
    text = schema_text(kind)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            write_atomic(output, text.encode("utf-8"))
        except OSError as err:
            raise InputError("--output", f"cannot write {output}: {err.strerror or err}") from err
    return EXIT_PASS


COMMANDS = (verify, schema)
