"""``hengqi calibrate RECORD``: evaluate a calibration record to EURAMET cg-18 v4.0.

Reads a calibration record (``docs/calibration-record.md``) and prints the errors of indication with their
uncertainties (per point: load, indication, E, u, nu_eff, k, U), the uncertainty budget at each point, the
repeatability and eccentricity results, the error curve, the uncertainty in use and the minimum weight(s); or
the JSON document of :mod:`hengqi.records.calibration_report` with ``--json``.  ``--plot FILE.png`` draws the
errors with their expanded uncertainties and the error curve.  Exit status: 0 done, 2 invalid input (one line on
stderr naming the field path and the reason).
"""

from __future__ import annotations

import io
import json
import math
from decimal import Decimal
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hengqi.cli.files import write_atomic
from hengqi.errors import InputError
from hengqi.metrology.calibration.result import CalibrationPoint, CalibrationResult, InstrumentSummary
from hengqi.metrology.quantities import MASS_UNITS, format_mass, to_unit
from hengqi.records.calibration import calibrate as evaluate_record
from hengqi.records.calibration import load_calibration_record
from hengqi.records.calibration_report import result_document


def _console() -> Console:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console = Console(highlight=False, soft_wrap=False, width=130)
    return console


def load_unit(instrument: InstrumentSummary) -> str:
    """Loads are shown in g below 10 kg Max, else in kg."""
    return "g" if instrument.max_kg < 10 else "kg"


def error_unit(instrument: InstrumentSummary) -> str:
    """Errors and uncertainties: mg where d < 10 mg, g where d < 10 g, else kg."""
    if instrument.d_kg < Decimal("0.00001"):
        return "mg"
    if instrument.d_kg < Decimal("0.01"):
        return "g"
    return "kg"


def _num(kg: float, unit: str, digits: int = 3) -> str:
    """A float in ``unit`` with ``digits`` significant figures."""
    value = kg / float(MASS_UNITS[unit])
    return f"{value:.{digits}g}"


def _dof(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.0f}"


def _signed(kg: Decimal, unit: str) -> str:
    text = format(to_unit(kg, unit).normalize(), "f")
    return f"+{text}" if kg > 0 else text


def _points_table(result: CalibrationResult, lu: str, eu: str) -> Table:
    table = Table(title="Errors of indication (cg-18 v4.0 7.1)", title_justify="left", show_edge=False)
    ranges = bool(result.points) and all(p.range_in_use is not None for p in result.points)
    for name in (f"load / {lu}", f"m_ref / {lu}", f"I / {lu}"):
        table.add_column(name, justify="right")
    if ranges:  # several ranges: the range in use and its d at each point
        table.add_column("range", justify="right")
        table.add_column(f"d / {eu}", justify="right")
    for name in (f"E / {eu}", f"u(E) / {eu}", "ν_eff", "k"):
        table.add_column(name, justify="right")
    table.add_column(f"U(E) / {eu}", justify="right", style="bold")
    for p in result.points:
        in_range = [str(p.range_in_use), format(to_unit(p.d_kg, eu).normalize(), "f")] if p.d_kg and ranges else []
        table.add_row(
            format(to_unit(p.load_kg, lu).normalize(), "f"),
            format(to_unit(p.reference_mass_kg, lu).normalize(), "f"),
            format(to_unit(p.indication_kg, lu).normalize(), "f"),
            *in_range,
            _signed(p.error_kg, eu),
            _num(p.u_kg, eu),
            _dof(p.dof),
            f"{p.k:.3f}",
            _num(p.U_kg, eu, 2),
        )
    return table


def _budget_table(point: CalibrationPoint, lu: str, eu: str) -> Table:
    title = f"Budget at {format_mass(point.load_kg, lu)}"
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("contribution")
    table.add_column(f"u_i / {eu}", justify="right")
    table.add_column("ν_i", justify="right")
    table.add_column("share", justify="right")
    table.add_column("how", style="dim", overflow="fold")
    total = point.u_kg**2 or 1.0
    for c in point.budget:
        table.add_row(c.name, _num(c.u_kg, eu), _dof(c.dof), f"{100 * c.u_kg**2 / total:.1f} %", c.description)
    table.add_row(Text("u(E)", style="bold"), _num(point.u_kg, eu), _dof(point.dof), "100 %", "")
    return table


def _report(console: Console, source: str, result: CalibrationResult) -> None:
    inst = result.instrument
    lu, eu = load_unit(inst), error_unit(inst)
    identity = " ".join(x for x in (inst.manufacturer, inst.model) if x)
    serial = f" s/n {inst.serial_number}" if inst.serial_number else ""
    console.print(Text.assemble(("Calibration of ", "bold"), (inst.identifier, "bold"), f"  {identity}{serial}"))
    klass = f", class {inst.accuracy_class}" if inst.accuracy_class else ""
    console.print(f"Max {format_mass(inst.max_kg)}, d {format_mass(inst.d_kg)}{klass}; method {result.method}")
    console.print(f"record {source}; {result.calibration_date.isoformat()}")
    console.print()
    console.print(_points_table(result, lu, eu))
    for r in result.repeatability:
        console.print(
            f"repeatability at {format_mass(r.load_kg, lu)}: n = {len(r.readings)}, "
            f"s = {_num(r.s_kg, eu)} {eu} (ν = {r.dof})"
        )
    if result.eccentricity is not None:
        e = result.eccentricity
        deviations = ", ".join(f"{n} {_signed(d, eu)}" for n, d in zip(e.positions, e.deviations_kg, strict=True))
        console.print(
            f"eccentricity at {format_mass(e.load_kg, lu)}: |ΔI|max = {format_mass(e.max_deviation_kg, eu)} "
            f"({deviations})"
        )
    for p in result.points:
        console.print()
        console.print(_budget_table(p, lu, eu))
    console.print()
    if result.error_curve is not None:
        c = result.error_curve
        terms = " + ".join(
            f"{a:.6g}·R^{k}" if k else f"{a:.6g} kg" for a, k in zip(c.coefficients, c.powers, strict=True)
        )
        console.print(f"error curve ({c.model}): E_appr(R) = {terms}  (χ² = {c.chi2:.3g}, ν = {c.dof})")
    w = result.uncertainty_in_use
    if w is not None:
        console.print(
            f"uncertainty in use: U(W) = {w.k:.3f}·sqrt(({_num(w.alpha_kg, eu)} {eu})² + ({w.beta:.3g}·R)²); "
            f"at Max: U = {_num(w.U_kg(w.max_kg), eu)} {eu}, U_gl = {_num(w.global_U_kg(w.max_kg), eu)} {eu}"
            f"{' (results corrected)' if w.corrected else ''}"
        )
    for m in result.minimum_weights:
        extra = f", s = {_num(m.s_kg, eu)} {eu}" if m.s_kg is not None else ""
        console.print(
            Text.assemble(
                (f"minimum weight ({m.method.value}): ", "bold"),
                f"{_num(m.value_kg, lu, 4)} {lu}  (tolerance {100 * m.tolerance:g} %, safety factor "
                f"{m.safety_factor:g}{extra})",
            )
        )
        console.print(Text(f"  rule: {m.rule}", style="dim"))
    for note in result.notes:
        console.print(Text(f"note: {note}", style="dim"))


def plot_result(result: CalibrationResult, path: Path) -> None:
    """Draw the errors with their U bars, the error curve and its ``±U(W)`` band to a PNG (matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inst = result.instrument
    lu, eu = load_unit(inst), error_unit(inst)
    ls, es = float(MASS_UNITS[lu]), float(MASS_UNITS[eu])
    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    try:
        loads = [float(p.indication_kg) / ls for p in result.points]
        errors = [float(p.error_kg) / es for p in result.points]
        bars = [p.U_kg / es for p in result.points]
        ax.errorbar(loads, errors, yerr=bars, fmt="o", capsize=4, label="E ± U(E) (k as computed)")
        w = result.uncertainty_in_use
        if result.error_curve is not None:
            top = float(inst.max_kg)
            grid = [top * i / 100 for i in range(101)]
            curve = [result.error_curve.error_kg(r) / es for r in grid]
            xs = [r / ls for r in grid]
            ax.plot(xs, curve, "-", label=f"E_appr(R) ({result.error_curve.model})")
            if w is not None:
                upper = [c + w.U_kg(r) / es for c, r in zip(curve, grid, strict=True)]
                lower = [c - w.U_kg(r) / es for c, r in zip(curve, grid, strict=True)]
                ax.fill_between(xs, lower, upper, alpha=0.2, label="E_appr ± U(W) in use")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xlabel(f"reading R / {lu}")
        ax.set_ylabel(f"error of indication E / {eu}")
        ax.set_title(f"{inst.identifier}: calibration {result.calibration_date.isoformat()} ({result.method})")
        ax.legend(loc="best", fontsize="small")
        fig.tight_layout()
        drawing = io.BytesIO()
        fig.savefig(drawing, format="png")
        try:
            write_atomic(path, drawing.getvalue())  # never half a PNG on a full disk
        except OSError as err:
            raise InputError("--plot", f"cannot write {path}: {err.strerror or err}") from err
    finally:
        plt.close(fig)


@click.command("calibrate")
@click.argument("record", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as a JSON document.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), help="Draw the error curve to a PNG file.")
def calibrate(record: Path, as_json: bool, plot: Path | None) -> int:
    """Evaluate a calibration RECORD to EURAMET cg-18 v4.0 (errors, uncertainties, minimum weight)."""
    data = load_calibration_record(record)
    result = evaluate_record(data)
    if plot is not None:
        plot_result(result, plot)
    if as_json:
        click.echo(json.dumps(result_document(result, source=str(record)), ensure_ascii=False, indent=2))
    else:
        _report(_console(), str(record), result)
    return 0


COMMANDS = (calibrate,)
