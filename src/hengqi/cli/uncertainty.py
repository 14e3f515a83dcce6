"""``hengqi uncertainty MODEL.yaml``: GUM and Monte Carlo evaluation of an uncertainty model file.

Prints the uncertainty budget (JCGM 100:2008, 5.1, Table H.1 layout), the GUM uncertainty framework and the
Monte Carlo method side by side (JCGM 101:2008, 7), and the validation verdict (JCGM 101:2008, 8).  ``--json``
prints the same as a JSON object; ``--plot`` draws the Monte Carlo histogram with both coverage intervals and
the GUF density.  Bad input prints one line and exits 2.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hengqi.errors import InputError
from hengqi.metrology.gum import (
    GumResult,
    McmResult,
    Validation,
    monte_carlo,
    monte_carlo_adaptive,
    propagate,
    validate,
)
from hengqi.records.uncertainty_model import UncertaintyProblem, load_uncertainty_model

EXIT_OK = 0
PROGRESS_FROM = 2_000_000
"""Runs of at least this many trials show a progress bar on stderr (when it is a terminal)."""


def _dof(value: float) -> float | None:
    return None if math.isinf(value) else value


def _report(problem: UncertaintyProblem, gum: GumResult, mcm: McmResult, check: Validation | None) -> dict[str, Any]:
    return {
        "measurand": gum.measurand,
        "unit": problem.units.get(gum.measurand),
        "title": problem.title,
        "reference": problem.reference,
        "p": gum.p,
        "gum": {
            "value": gum.value,
            "u": gum.u,
            "dof": _dof(gum.dof),
            "k": gum.k,
            "U": gum.U,
            "interval": list(gum.interval),
            "derivatives": gum.derivatives,
            "rel_step": gum.rel_step,
        },
        "mcm": {
            "value": mcm.value,
            "u": mcm.u,
            "interval_symmetric": list(mcm.interval_symmetric),
            "interval_shortest": list(mcm.interval_shortest),
            "trials": mcm.trials,
            "seed": mcm.seed,
            "generator": mcm.generator,
            "adaptive": mcm.adaptive,
            "n_dig": mcm.n_dig,
            "tolerance": mcm.tolerance,
            "converged": mcm.converged,
        },
        "budget": [
            {
                "name": c.name,
                "distribution": c.distribution,
                "value": c.value,
                "u": c.u,
                "sensitivity": c.sensitivity,
                "u_y": c.u_y,
                "dof": _dof(c.dof),
                "share": c.share,
                "unit": problem.units.get(c.name),
            }
            for c in gum.budget.contributions
        ],
        "correlation_variance": gum.budget.correlation_variance,
        "validation": None
        if check is None
        else {
            "d_low": check.d_low,
            "d_high": check.d_high,
            "tolerance": check.tolerance,
            "n_dig": check.n_dig,
            "validated": check.validated,
        },
    }


def _g(value: float, digits: int = 10) -> str:
    return "∞" if math.isinf(value) else f"{value:.{digits}g}"


def _print(problem: UncertaintyProblem, gum: GumResult, mcm: McmResult, check: Validation | None) -> None:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console = Console(highlight=False, soft_wrap=False, width=150)
    unit = problem.units.get(gum.measurand)
    heading = problem.title or gum.measurand
    console.print(f"[bold]{heading}[/bold]" + (f"  ({problem.reference})" if problem.reference else ""))
    budget = Table(title=f"Uncertainty budget of {gum.measurand}" + (f" [{unit}]" if unit else ""))
    for column in ("input", "distribution", "x_i", "u(x_i)", "c_i", "u_i(y)", "ν_i", "share"):
        budget.add_column(column, justify="left" if column in ("input", "distribution") else "right")
    for c in gum.budget.contributions:
        budget.add_row(
            c.name + (f" [{problem.units[c.name]}]" if c.name in problem.units else ""),
            c.distribution,
            _g(c.value),
            _g(c.u, 4),
            _g(c.sensitivity, 4),
            _g(c.u_y, 4),
            _g(c.dof, 4),
            f"{100 * c.share:.1f} %",
        )
    console.print(budget)
    if abs(gum.budget.correlation_variance) > 1e-9 * gum.u**2:
        console.print(f"variance from correlations: {_g(gum.budget.correlation_variance, 4)}")
    results = Table(title=f"Results, coverage probability p = {100 * gum.p:g} %")
    for column in ("method", "y", "u(y)", "ν_eff", "k", "U", "coverage interval"):
        results.add_column(column, justify="left" if column in ("method", "coverage interval") else "right")
    results.add_row(
        "GUF (JCGM 100)",
        _g(gum.value),
        _g(gum.u, 4),
        _g(gum.dof, 4),
        f"{gum.k:.3f}",
        _g(gum.U, 4),
        f"[{_g(gum.interval[0])}, {_g(gum.interval[1])}]",
    )
    results.add_row(
        "MCM (JCGM 101)",
        _g(mcm.value),
        _g(mcm.u, 4),
        "",
        "",
        "",
        f"[{_g(mcm.interval_symmetric[0])}, {_g(mcm.interval_symmetric[1])}] probabilistically symmetric",
    )
    results.add_row(
        "", "", "", "", "", "", f"[{_g(mcm.interval_shortest[0])}, {_g(mcm.interval_shortest[1])}] shortest"
    )
    console.print(results)
    derivation = "analytic" if gum.rel_step is None else f"central differences, h_i = {gum.rel_step:g} u(x_i)"
    how = f"adaptive (JCGM 101:2008, 7.9), n_dig = {mcm.n_dig}" if mcm.adaptive else "fixed M"
    if mcm.adaptive and not mcm.converged:
        how += ", NOT converged: maximum number of trials reached"
    console.print(f"GUF: sensitivity coefficients by {derivation}")
    console.print(f"MCM: M = {mcm.trials} trials ({how}), seed = {mcm.seed}")
    if check is None:
        console.print("validation (JCGM 101:2008, 8): not applicable, u(y) = 0")
    else:
        verdict = "[green]validated[/green]" if check.validated else "[red]not validated[/red]"
        console.print(
            f"validation of the GUF by MCM (JCGM 101:2008, 8.2): d_low = {_g(check.d_low, 3)}, "
            f"d_high = {_g(check.d_high, 3)}, δ = {_g(check.tolerance, 3)} (n_dig = {check.n_dig}): {verdict}"
        )


@contextmanager
def _progress(trials: int) -> Iterator[Callable[[int, int], None] | None]:
    console = Console(stderr=True)
    if trials < PROGRESS_FROM or not console.is_terminal:
        yield None
        return
    columns = (TextColumn("Monte Carlo"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"))
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task("trials", total=trials)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _plot(path: str, gum: GumResult, mcm: McmResult, unit: str | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from scipy import stats

    histogram = mcm.histogram
    if histogram is None:  # pragma: no cover - the command always asks for one with --plot
        raise InputError("--plot", "no histogram was recorded")
    edges = np.asarray(histogram.edges)
    counts = np.asarray(histogram.counts, dtype=float)
    density = counts / (mcm.trials * np.diff(edges))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.stairs(density, edges, fill=True, alpha=0.4, label=f"MCM, M = {mcm.trials}")
    x = np.linspace(edges[0], edges[-1], 400)
    if gum.u > 0:
        z = (x - gum.value) / gum.u
        pdf = stats.norm.pdf(z) if math.isinf(gum.dof) else stats.t.pdf(z, gum.dof)
        label = "GUF, normal" if math.isinf(gum.dof) else f"GUF, t (ν = {gum.dof:.1f})"
        ax.plot(x, pdf / gum.u, color="C1", label=label)
    for value, style, label in (
        (gum.interval, "-", "GUF interval"),
        (mcm.interval_symmetric, "--", "MCM probabilistically symmetric"),
        (mcm.interval_shortest, ":", "MCM shortest"),
    ):
        colour = {"-": "C1", "--": "C2", ":": "C3"}[style]
        ax.axvline(value[0], color=colour, linestyle=style, label=label)
        ax.axvline(value[1], color=colour, linestyle=style)
    ax.set_xlabel(gum.measurand + (f" [{unit}]" if unit else ""))
    ax.set_ylabel("probability density")
    ax.ticklabel_format(axis="x", useOffset=False)
    ax.set_title(f"{gum.measurand}: p = {100 * gum.p:g} %")
    ax.legend(fontsize="small")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=120)
    except OSError as err:
        raise InputError("--plot", f"cannot write {path}: {err.strerror or err}") from err
    finally:
        plt.close(fig)


@click.command("uncertainty")
@click.argument("model_file", metavar="MODEL.yaml")
@click.option("--mc", "trials", type=click.IntRange(min=100), help="Monte Carlo with this many trials M.")
@click.option("--adaptive", "digits", type=click.IntRange(1, 6), help="Adaptive Monte Carlo, n_dig digits.")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (recorded in the result).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write a histogram with both intervals (PNG).")
def uncertainty(  # noqa: PLR0917 - click passes options positionally
    model_file: str, trials: int | None, digits: int | None, seed: int | None, as_json: bool, plot: str | None
) -> int:
    """Evaluate MODEL.yaml by the GUM (JCGM 100) and by Monte Carlo (JCGM 101), and validate one by the other."""
    if trials is not None and digits is not None:
        raise InputError("--mc", "give either --mc or --adaptive, not both")
    problem = load_uncertainty_model(Path(model_file)).to_problem()
    settings = problem.monte_carlo
    seed = settings.seed if seed is None else seed
    adaptive = digits is not None or (trials is None and settings.adaptive)
    n_dig = digits if digits is not None else settings.n_dig
    gum = propagate(problem.model, problem.distributions, p=problem.p)
    bins = 120 if plot else 0
    planned = settings.max_trials if adaptive else (trials or settings.trials)
    with _progress(planned) as progress:
        if adaptive:
            mcm = monte_carlo_adaptive(
                problem.model,
                problem.distributions,
                n_dig=n_dig,
                p=problem.p,
                seed=seed,
                max_trials=settings.max_trials,
                bins=bins,
                progress=progress,
            )
        else:
            mcm = monte_carlo(
                problem.model,
                problem.distributions,
                trials=planned,
                p=problem.p,
                seed=seed,
                bins=bins,
                progress=progress,
            )
    check = validate(gum.interval, gum.u, mcm.interval_symmetric, n_dig) if gum.u > 0 else None
    if plot:
        _plot(plot, gum, mcm, problem.units.get(gum.measurand))
    if as_json:
        click.echo(json.dumps(_report(problem, gum, mcm, check), indent=2, ensure_ascii=False))
    else:
        _print(problem, gum, mcm, check)
    return EXIT_OK


COMMANDS = (uncertainty,)
