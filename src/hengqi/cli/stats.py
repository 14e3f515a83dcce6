"""``hengqi stats``: fleet statistics and sampling plans from the command line.

``hengqi stats pass-rate FILE`` reads verification records (CSV with a header, or a JSON list of objects) with a
``passed`` column (true/false, 1/0, pass/fail, yes/no), a ``date`` column (ISO date; needed for ``month``) and any
grouping columns, and prints the pass rate overall and by group with confidence intervals and funnel flags, in
the same form as ``GET /api/v1/statistics/pass-rates``.  ``hengqi stats plan`` and ``hengqi stats conformance``
print sampling plans (see ``docs/supervision-statistics.md``); ``hengqi stats single-plan`` the tabled plans of
normal or tightened inspection, and ``hengqi stats switching --lots ARRAA...`` the severity of inspection after each
lot under the switching rules.  ``hengqi stats simulate DIR`` writes a synthetic
province as Parquet partitions by region and month, and ``hengqi stats province DIR [--compute URL]`` computes
the regulator statistics over such partitions: embedded (DuckDB in this process, the default) or on Dask
(``dask://host:port`` for a running scheduler, ``dask://local?workers=N`` for a local cluster).  Bad input
exits with status 2 and one line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from hengqi.errors import InputError
from hengqi.supervision.sampling import attribute_plan, conformance_plan
from hengqi.supervision.statistics import FunnelPoint, GroupRate, KeySpec, funnel, month, pass_rate

MAX_BYTES = 256 * 1024 * 1024
_TRUE = frozenset({"true", "1", "pass", "passed", "yes"})
_FALSE = frozenset({"false", "0", "fail", "failed", "no"})


def _passed(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(where, f"'passed' must be true/false, 1/0 or pass/fail, got {value!r}")


def load_records(path: Path) -> list[dict[str, Any]]:
    """Verification records from a CSV (header row) or JSON (list of objects) file; ``passed`` made a bool."""
    out = []
    for i, row in enumerate(load_rows(path)):
        where = f"{path.name}: record {i + 1}"
        if "passed" not in row:
            raise InputError(where, "has no 'passed' field")
        out.append({**row, "passed": _passed(row["passed"], where)})
    return out


def load_rows(path: Path) -> list[dict[str, Any]]:
    """The records of a CSV (header row) or JSON (list of objects) file, as they are."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(str(path), f"file of {size} bytes exceeds {MAX_BYTES}")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(str(path), f"cannot read: {err}") from err
    rows: list[Any]
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as err:
            raise InputError(str(path), f"not valid JSON: {err}") from err
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InputError(str(path), "must be a JSON list of objects")
    else:
        rows = list(csv.DictReader(text.splitlines()))
    return rows


def _key_specs(group_by: str) -> list[KeySpec]:
    names = [k for k in group_by.split(",") if k] if group_by else []
    if len(set(names)) != len(names):
        raise InputError("--group-by", "a key may appear only once")
    return [("month", month("date")[1]) if n == "month" else n for n in names]


def _row(g: GroupRate, point: FunnelPoint | None = None) -> dict[str, Any]:
    i = g.interval
    return {
        "key": dict(g.key),
        "count": i.successes,
        "total": i.trials,
        "rate": i.estimate,
        "lower": i.lower,
        "upper": i.upper,
        "funnel_flag": None if point is None else point.flag,
        "funnel_level": None if point is None else point.outside_level,
    }


def pass_rate_report(
    records: Sequence[Mapping[str, Any]], group_by: str, method: str, confidence: float
) -> dict[str, Any]:
    """The report of ``GET /api/v1/statistics/pass-rates`` computed from ``records``."""
    keys = _key_specs(group_by)
    names = [k if isinstance(k, str) else k[0] for k in keys]
    report: dict[str, Any] = {
        "statistic": "verification pass rate",
        "group_by": names,
        "method": method,
        "confidence": confidence,
        "overall": None,
        "groups": [],
    }
    if not records:
        return report
    (overall,) = pass_rate(records, method=method, confidence=confidence)
    groups = pass_rate(records, group_by=keys, method=method, confidence=confidence)
    points: tuple[FunnelPoint | None, ...] = funnel(groups, target=overall.rate)[1] if keys else (None,) * len(groups)
    report["overall"] = _row(overall)
    report["groups"] = [_row(g, p) for g, p in zip(groups, points, strict=True)]
    return report


@click.group("stats")
def stats() -> None:
    """Fleet statistics and sampling plans (see docs/supervision-statistics.md)."""


@stats.command("pass-rate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--group-by", default="", help="comma-separated columns; 'month' is taken from 'date'")
@click.option("--method", type=click.Choice(["wilson", "clopper-pearson"]), default="wilson", show_default=True)
@click.option("--confidence", type=click.FloatRange(0.5, 1.0, min_open=True, max_open=True), default=0.95)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the API's form).")
def pass_rate_cmd(*, file: Path, group_by: str, method: str, confidence: float, as_json: bool) -> int:
    """Verification pass rate of the records in FILE, overall and by group."""
    report = pass_rate_report(load_records(file), group_by, method, confidence)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return 0
    rows = ([("overall", report["overall"])] if report["overall"] else []) + [
        (", ".join(f"{k}={v}" for k, v in g["key"].items()), g) for g in report["groups"]
    ]
    for label, g in rows:
        flag = f"  outside {g['funnel_level']:.1%} ({g['funnel_flag']})" if g.get("funnel_flag") else ""
        click.echo(
            f"{label}: {g['count']}/{g['total']} = {g['rate']:.1%} "
            f"[{g['lower']:.1%}, {g['upper']:.1%}] ({method}, {confidence:.0%}){flag}"
        )
    return 0


@stats.command("plan")
@click.option("--aql", type=float, required=True, help="acceptable quality level (fraction nonconforming)")
@click.option("--lq", type=float, required=True, help="limiting quality (fraction nonconforming)")
@click.option("--alpha", type=float, default=0.05, show_default=True, help="producer's risk at the AQL")
@click.option("--beta", type=float, default=0.10, show_default=True, help="consumer's risk at the LQ")
@click.option("--lot-size", type=click.IntRange(min=1), default=None, help="population size (hypergeometric)")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plan_cmd(*, aql: float, lq: float, alpha: float, beta: float, lot_size: int | None, as_json: bool) -> int:
    """Single-sampling attributes plan (n, c) for two points of the OC curve (not ISO 2859-1)."""
    p = attribute_plan(aql, lq, producer_risk=alpha, consumer_risk=beta, lot_size=lot_size)
    data = {
        "n": p.n,
        "c": p.c,
        "p_accept_aql": p.p_accept_aql,
        "p_accept_lq": p.p_accept_lq,
        "method": p.method,
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(
            f"inspect n = {p.n}, accept with at most c = {p.c} nonconforming ({p.method}); "
            f"P(accept | AQL) = {p.p_accept_aql:.3f}, P(accept | LQ) = {p.p_accept_lq:.3f}"
        )
    return 0


@stats.command("conformance")
@click.option("--proportion", type=float, default=0.95, show_default=True, help="conforming proportion to show")
@click.option("--confidence", type=float, default=0.95, show_default=True)
@click.option("--failures", type=click.IntRange(min=0), default=0, show_default=True, help="acceptance number")
@click.option("--population", type=click.IntRange(min=1), default=None, help="population size (hypergeometric)")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def conformance_cmd(
    *, proportion: float, confidence: float, failures: int, population: int | None, as_json: bool
) -> int:
    """Sample size showing that at least PROPORTION of a population conforms at CONFIDENCE."""
    p = conformance_plan(proportion, confidence, acceptance_number=failures, population=population)
    if as_json:
        click.echo(json.dumps({"n": p.n, "c": p.c, "risk": p.risk, "method": p.method}, indent=2))
    else:
        click.echo(
            f"inspect n = {p.n}; with at most {p.c} failing, at least {proportion:.1%} conform at "
            f"{confidence:.0%} confidence ({p.method})"
        )
    return 0


#: ``--inspection`` of the sampling-plan commands (the switching rules' severity)
_INSPECTION = click.option(
    "--inspection",
    type=click.Choice(["normal", "tightened", "reduced"]),
    default="normal",
    show_default=True,
    help="severity of inspection",
)


@stats.command("single-plan")
@click.option("--lot-size", type=click.IntRange(min=1), required=True, help="number of items in the lot")
@click.option("--aql", required=True, help="AQL in percent nonconforming: 0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10 or 15")
@_INSPECTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def single_plan_cmd(*, lot_size: int, aql: str, inspection: str, as_json: bool) -> int:
    """Single sampling plan, normal, tightened or reduced inspection, level II (MIL-STD-105E Tables I, II-A, II-B
    and II-C, the counterpart of ISO 2859-1; entries from secondary transcriptions, see
    docs/supervision-statistics.md)."""
    from dataclasses import asdict

    from hengqi.supervision.attributes_table import single_normal_plan, single_reduced_plan, single_tightened_plan

    lookup = {"normal": single_normal_plan, "tightened": single_tightened_plan, "reduced": single_reduced_plan}
    p = lookup[inspection](lot_size, aql)
    if as_json:
        click.echo(json.dumps(asdict(p), indent=2))
    else:
        via = "" if p.code_letter == p.lot_code_letter else f" (arrow from {p.lot_code_letter})"
        click.echo(
            f"lot {lot_size}, AQL {aql} %, {inspection} inspection: code letter {p.code_letter}{via}, "
            f"inspect n = {p.n}, accept with Ac = {p.ac}, reject with Re = {p.re} nonconforming"
        )
        if p.re > p.ac + 1:
            click.echo(f"between {p.ac} and {p.re}: accept the lot and return to normal inspection")
    return 0


@stats.command("variables-plan")
@click.option("--lot-size", type=int, default=None, help="number of items in the lot (general inspection level II)")
@click.option("--code-letter", default=None, help="Z1.9 code letter instead of --lot-size: B to P")
@click.option("--aql", required=True, help="AQL in percent nonconforming: 0.10, 0.15, 0.25, 0.40, 0.65, 1.0 ... 10")
@_INSPECTION
@click.option("--values", "values_text", default=None, help="judge a lot: the n measured values, comma-separated")
@click.option("--mean", default=None, help="judge a lot: the sample mean (with --sd)")
@click.option("--sd", default=None, help="judge a lot: the sample standard deviation, divisor n - 1")
@click.option("--lower", default=None, help="lower specification limit")
@click.option("--upper", default=None, help="upper specification limit")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def variables_plan_cmd(
    *,
    lot_size: int | None,
    code_letter: str | None,
    aql: str,
    inspection: str,
    values_text: str | None,
    mean: str | None,
    sd: str | None,
    lower: str | None,
    upper: str | None,
    as_json: bool,
) -> int:
    """Variables plan, standard deviation method (ANSI/ASQ Z1.9 from MIL-STD-414, the counterpart of ISO 3951-1;
    entries from a secondary transcription, see docs/supervision-statistics.md): n, M and k; with --values or
    --mean/--sd and a limit, the decision on the lot."""
    from hengqi.supervision.variables import judge_lot, variables_plan

    if (lot_size is None) == (code_letter is None):
        raise InputError("--lot-size", "give either --lot-size or --code-letter")
    try:
        p = variables_plan(lot_size, aql, inspection=inspection, code_letter=code_letter)
    except InputError as err:
        raise InputError(f"--{err.path.replace('_', '-')}", err.reason) from None
    judging = any(x is not None for x in (values_text, mean, sd, lower, upper))
    verdict = None
    if judging:
        values = None
        if values_text is not None:
            values = [x.strip() for x in values_text.split(",")]
        try:
            verdict = judge_lot(p, values=values, mean=mean, sd=sd, lower=lower, upper=upper)
        except InputError as err:
            raise InputError(f"--{err.path.split('[')[0]}", err.reason) from None
    if as_json:
        doc: dict[str, object] = {
            "lot_size": p.lot_size,
            "aql": p.aql,
            "inspection": p.inspection,
            "code_letter": p.code_letter,
            "n": p.n,
            "m_percent": str(p.m_percent),
            "k": str(p.k),
        }
        if verdict is not None:
            doc["lot"] = {
                "mean": str(verdict.mean),
                "sd": str(verdict.sd),
                "q_lower": None if verdict.q_lower is None else str(verdict.q_lower),
                "q_upper": None if verdict.q_upper is None else str(verdict.q_upper),
                "p_lower_percent": verdict.p_lower_percent,
                "p_upper_percent": verdict.p_upper_percent,
                "form": verdict.form,
                "accepted": verdict.accepted,
                "reason": verdict.reason,
            }
        click.echo(json.dumps(doc, indent=2))
        return 0
    where = f"lot {lot_size}" if lot_size is not None else f"code letter {p.code_letter}"
    click.echo(
        f"{where}, AQL {aql} %, {inspection} inspection: code letter {p.code_letter}, measure n = {p.n}; "
        f"accept with (U - mean)/s or (mean - L)/s >= k = {p.k} (one limit) or with at most "
        f"M = {p.m_percent} % estimated nonconforming (two limits)"
    )
    if verdict is not None:
        click.echo(f"lot {'accepted' if verdict.accepted else 'rejected'}: {verdict.reason}")
    return 0


@stats.command("staircase")
@click.option("--initial-days", type=int, required=True, help="the interval before the first finding, in days")
@click.option(
    "--findings",
    required=True,
    help="one letter per inspection, in order: M within the margin, W within the MPE, O outside the MPE "
    "(or a population rejected by its sampling plan)",
)
@click.option("--margin", required=True, help="fraction of the MPE within which the interval is extended, e.g. 0.8")
@click.option("--extend", required=True, help="factor applied when within the margin (> 1)")
@click.option("--reduce", "reduce_", required=True, help="factor applied when outside the MPE (< 1)")
@click.option("--min-days", type=int, required=True, help="shortest interval, days")
@click.option("--max-days", type=int, required=True, help="longest interval, days")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def staircase_cmd(
    *,
    initial_days: int,
    findings: str,
    margin: str,
    extend: str,
    reduce_: str,
    min_days: int,
    max_days: int,
    as_json: bool,
) -> int:
    """Intervals by the "staircase" (ILAC-G24 / OIML D 10 Method 1, secondary quotation): extended after a finding
    within the margin, kept within the MPE, reduced outside it.  Every amount is the authority's choice and must
    be given."""
    from decimal import Decimal, InvalidOperation

    from hengqi.supervision.intervals import MAX_DAYS, Finding, StaircaseRule, run_staircase

    if not 1 <= initial_days <= MAX_DAYS:
        raise InputError("--initial-days", f"must be 1 to {MAX_DAYS}, got {initial_days}")
    letters = {"M": Finding.WITHIN_MARGIN, "W": Finding.WITHIN_MPE, "O": Finding.OUTSIDE_MPE}
    text = findings.strip().upper()
    bad = sorted({c for c in text if c not in letters})
    if not text or bad:
        raise InputError("--findings", f"use M, W and O only, got {', '.join(map(repr, bad)) or 'nothing'}")
    numbers = {}
    for name, raw in (("--margin", margin), ("--extend", extend), ("--reduce", reduce_)):
        try:
            numbers[name] = Decimal(raw)
        except InvalidOperation:
            raise InputError(name, f"expected a number, got {raw!r}") from None
    try:
        rule = StaircaseRule(numbers["--margin"], numbers["--extend"], numbers["--reduce"], min_days, max_days)
        steps = run_staircase(initial_days, [letters[c] for c in text], rule)
    except InputError as err:
        raise InputError(f"--{err.path.replace('_', '-').split('[')[0]}", err.reason) from None
    if as_json:
        rows = [{"inspection": i + 1, "finding": s.finding.value, "days": s.days, "reason": s.reason}
                for i, s in enumerate(steps)]  # fmt: skip
        click.echo(json.dumps(rows, indent=2))
    else:
        for i, s in enumerate(steps):
            click.echo(f"inspection {i + 1}: {s.finding.value}; next interval {s.days} d ({s.reason})")
    return 0


@stats.command("population-samples")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--group-by",
    default="model,age,region",
    show_default=True,
    help="comma-separated columns; 'age' is the band (0-2, 2-5, 5-10, 10+ years) of 'installed' at --as-of",
)
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="date for 'age' (default today)")
@click.option("--seed", type=click.IntRange(min=0), required=True, help="seed of the random draw (recorded)")
@click.option("--proportion", type=float, default=0.95, show_default=True)
@click.option("--confidence", type=float, default=0.95, show_default=True)
@click.option("--failures", type=click.IntRange(min=0), default=0, show_default=True, help="acceptance number c")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def population_samples_cmd(
    *,
    file: Path,
    group_by: str,
    as_of: Any,
    seed: int,
    proportion: float,
    confidence: float,
    failures: int,
    as_json: bool,
) -> int:
    """Per population of the instruments in FILE (columns instrument_id and the grouping columns), the sample
    showing at least PROPORTION conforming at CONFIDENCE (hypergeometric) and the instruments drawn for it."""
    from datetime import date

    from hengqi.supervision.populations import population_samples
    from hengqi.supervision.statistics import age_band

    day = as_of.date() if as_of is not None else date.today()
    names = [k.strip() for k in group_by.split(",") if k.strip()]
    keys: list[KeySpec] = [("age", age_band("installed", day)[1]) if k == "age" else k for k in names]
    rows = [{**r, "installed": r.get("installed") or None} for r in load_rows(file)]
    samples = population_samples(
        rows, keys, seed=seed, proportion=proportion, confidence=confidence, acceptance_number=failures
    )
    if as_json:
        doc = [
            {"key": dict(zip(names, map(str, s.key), strict=True)), "population": s.population, "n": s.n, "c": s.c,
             "risk": s.risk, "seed": s.seed, "instrument_ids": list(s.instrument_ids)}
            for s in samples
        ]  # fmt: skip
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for s in samples:
            where = ", ".join(f"{k}={v}" for k, v in zip(names, s.key, strict=True))
            click.echo(
                f"{where}: {s.population} in service, inspect {s.n} (seed {s.seed}): {' '.join(s.instrument_ids)}"
            )
    return 0


@stats.command("switching")
@click.option(
    "--lots",
    required=True,
    help="results on original inspection, in order: A accepted, R rejected, C "
    "accepted between Ac and Re under reduced inspection",
)
@click.option("--nonconforming", default="", help="comma-separated nonconforming count per lot (for 8.3.3 b)")
@click.option(
    "--limit-number",
    type=click.IntRange(min=0),
    default=None,
    help="allow reduced inspection with this limit number (Table VIII, supplied by you) for 8.3.3 b",
)
@click.option(
    "--limits-dropped",
    is_flag=True,
    help="allow reduced inspection with 8.3.3 b dropped by agreement of both parties (8.5)",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def switching_cmd(
    *, lots: str, nonconforming: str, limit_number: int | None, limits_dropped: bool, as_json: bool
) -> int:
    """The severity of inspection after each lot (normal, tightened, reduced, discontinued): the switching
    procedure of MIL-STD-105E / ANSI/ASQ Z1.4 8.3 and 8.4 (secondary transcriptions, see
    docs/supervision-statistics.md).  Reduced inspection only with --limit-number or --limits-dropped."""
    from hengqi.supervision.switching import LotResult, ReducedConditions, run_lots

    text = lots.strip().upper()
    bad = sorted({c for c in text if c not in "ARC"})
    if not text or bad:
        raise InputError("--lots", f"use A, R and C only, got {', '.join(map(repr, bad)) or 'nothing'}")
    if limit_number is not None and limits_dropped:
        raise InputError("--limits-dropped", "give either --limit-number or --limits-dropped, not both")
    counts: list[int | None] | None = None
    if nonconforming.strip():
        try:
            counts = [int(x) for x in nonconforming.split(",")]
        except ValueError:
            raise InputError("--nonconforming", f"expected comma-separated integers, got {nonconforming!r}") from None
    conditions = None
    if limit_number is not None or limits_dropped:
        conditions = ReducedConditions(limit_number=limit_number)
    states = run_lots([LotResult(c) for c in text], nonconforming=counts, conditions=conditions)
    if as_json:
        rows = [
            {"lot": s.lots, "result": c, "severity": s.severity.value, "clause": s.clause, "reason": s.reason}
            for c, s in zip(text, states, strict=True)
        ]
        click.echo(json.dumps(rows, indent=2))
    else:
        for c, s in zip(text, states, strict=True):
            click.echo(f"lot {s.lots}: {c}; next lot on {s.severity.value} inspection ({s.clause}: {s.reason})")
    return 0


@stats.command("simulate")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--instruments", type=click.IntRange(1, 10_000_000), default=10_000, show_default=True)
@click.option("--year", type=click.IntRange(2000, 2100), default=2026, show_default=True)
@click.option("--seed", type=int, default=15, show_default=True)
def simulate_cmd(*, directory: Path, instruments: int, year: int, seed: int) -> int:
    """Write a synthetic province (instruments, a year of verifications, checks, alerts) under DIRECTORY."""
    from hengqi.server.analytics.partitions import write_province
    from hengqi.supervision.province import synthetic_province

    province = synthetic_province(instruments, year=year, seed=seed)
    files = write_province(province, directory)
    click.echo(
        f"{instruments} instruments, year {year}, seed {seed}: "
        + ", ".join(f"{t} {n} files" for t, n in files.items())
        + f"; statistics as of {province.as_of}"
    )
    return 0


def _organisations(text: str) -> frozenset[int] | None:
    if not text:
        return None
    try:
        return frozenset(int(t) for t in text.split(",") if t.strip())
    except ValueError as err:
        raise InputError("--organisations", f"comma-separated organisation numbers, got {text!r}") from err


@stats.command("province")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--compute",
    default="embedded",
    show_default=True,
    metavar="URL",
    help="embedded, dask://host:port (a Dask scheduler) or dask://local?workers=N (a local cluster)",
)
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), required=True, help="the day the statistics are taken")
@click.option("--statistic", default="", help="one statistic (default: every standard report)")
@click.option("--group-by", default="", help="comma-separated keys for --statistic")
@click.option("--organisations", default="", help="only these organisations (comma-separated numbers)")
@click.option("--method", type=click.Choice(["wilson", "clopper-pearson"]), default="wilson", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the reports as the API gives them).")
def province_cmd(
    *,
    directory: Path,
    compute: str,
    as_of: Any,
    statistic: str,
    group_by: str,
    organisations: str,
    method: str,
    as_json: bool,
) -> int:
    """Regulator statistics over the Parquet partitions under DIRECTORY, embedded or on Dask."""
    from hengqi.server.analytics.definitions import STANDARD_REPORTS, Spec
    from hengqi.server.analytics.engines import compute as run
    from hengqi.server.analytics.engines import parse_compute_url

    target = parse_compute_url(compute)  # a bad URL exits 2 before any work
    if group_by and not statistic:
        raise InputError("--group-by", "needs --statistic")
    specs = [Spec(statistic, tuple(k for k in group_by.split(",") if k))] if statistic else list(STANDARD_REPORTS)
    reports = run(
        directory, specs, as_of=as_of.date(), target=target, organisations=_organisations(organisations), method=method
    )
    if as_json:
        click.echo(json.dumps(reports, ensure_ascii=False, indent=2))
        return 0
    for r in reports:
        click.echo(f"== {r['statistic']} by {', '.join(r['group_by']) or '(all)'}")
        for g in r["groups"][:20]:
            label = ", ".join(f"{k}={v}" for k, v in g["key"].items()) or "overall"
            if "total" in g:
                flag = f"  outside {g['funnel_level']:.1%} ({g['funnel_flag']})" if g.get("funnel_flag") else ""
                interval = f"[{g['lower']:.2%}, {g['upper']:.2%}]"
                click.echo(f"  {label}: {g['count']}/{g['total']} = {g['rate']:.2%} {interval}{flag}")
            elif "events" in g:
                interval = f"[{g['lower']:.4g}, {g['upper']:.4g}]"
                click.echo(
                    f"  {label}: {g['events']} / {g['exposure']:g} = {g['rate']:.4g} per {r['per']:g} {interval}"
                )
            else:
                mean = "-" if g["mean_days"] is None else f"{g['mean_days']:.1f} d"
                click.echo(f"  {label}: mean {mean}, resolved {g['resolved']}, open {g['open']}")
        if len(r["groups"]) > 20:
            click.echo(f"  ... {len(r['groups']) - 20} more groups (--json for all)")
    return 0


COMMANDS = (stats,)
