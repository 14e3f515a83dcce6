"""``hengqi run verification|calibration``: a guided run at the terminal.

Instructions go to stdout; answers are read line by line from stdin (Enter to confirm a step, a value for a
reading typed in, one of the options for a decision, ``cancel`` to stop).  With ``--scale URL`` indications
are read from the instrument; with ``--manual`` they are typed in.  With ``--state FILE`` the run is saved
after every step and a later call with the same ``--state`` resumes it where it stopped (closed terminal, end of
input, instrument error).  The record the run produces is written with ``--out`` (else printed at the end).

The instrument file (``--instrument``) is the record header in YAML: for a verification the fields of a
verification record except ``tests`` (``instrument``, ``reference_weights``, ``operator``, ``date``, ``stage``,
``rules``...), for a calibration those of a calibration record except the measurements (``instrument``,
``weights``, ``date``...).  A file holding only the instrument is accepted too; ``--operator`` and ``--date``
fill the fields the file leaves out.

Exit status: 0 finished (verification: pass), 1 verification failed, run cancelled, paused at the end of input,
or interrupted by an instrument error (the state is kept), 2 invalid input.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import yaml

from hengqi.cli.files import write_atomic
from hengqi.errors import InputError
from hengqi.instruments.probe import open_scale
from hengqi.metrology.quantities import MASS_UNITS, canonical_unit, parse_mass
from hengqi.procedures.channels import StreamChannel
from hengqi.procedures.errors import OperatorGoneError, ScaleStepError
from hengqi.procedures.runner import Runner, Runs
from hengqi.procedures.session import Session
from hengqi.procedures.state import JsonStateFile, MemoryRunStore, RunStore
from hengqi.records.loading import read_yaml_file

EXIT_DONE = 0
EXIT_NOT_DONE = 1


def _header(kind: str, path: Path, operator: str | None, date: str | None) -> dict[str, Any]:
    data = read_yaml_file(path)
    if not isinstance(data, Mapping):
        raise InputError(str(path), "expected a mapping: the record header, or an instrument")
    header = dict(data) if "instrument" in data else {"instrument": dict(data)}
    for key in ("format", "version"):
        header.pop(key, None)
    if operator is not None:
        header["operator"] = operator
    elif kind == "verification" and "operator" not in header:
        raise InputError("--operator", "the header names no operator: give --operator NAME")
    if date is not None:
        header["date"] = date
    header.setdefault("date", dt.date.today().isoformat())
    return header


def _options(kind: str, tests: str | None, loads: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if tests is not None:
        if kind != "verification":
            raise InputError("--tests", "applies to a verification only")
        options["tests"] = [name.strip() for name in tests.split(",") if name.strip()]
    if loads is not None:
        if kind != "calibration":
            raise InputError("--loads", "applies to a calibration only")
        options["loads"] = [load.strip() for load in loads.split(",") if load.strip()]
    return options


def _entry_unit(parameters: Mapping[str, Any], unit: str | None) -> str:
    """The unit a bare number typed in counts: ``--unit``, else g below 100 kg Max, else kg."""
    if unit is not None:
        return canonical_unit(unit, path="--unit")
    record = parameters.get("record")  # a state file may hold anything: the replay names what is wrong
    instrument = record.get("instrument") if isinstance(record, Mapping) else None
    instrument = instrument if isinstance(instrument, Mapping) else {}
    specification = instrument.get("specification")
    text = instrument.get("max") or (specification.get("max") if isinstance(specification, Mapping) else None) or "1 kg"
    try:
        max_kg = parse_mass(text, path="max")
    except InputError:
        return "kg"
    return "g" if max_kg < 100 * MASS_UNITS["kg"] else "kg"


def _write_record(session: Session, out: Path | None) -> None:
    product = session.product
    if product is None:
        return
    text = yaml.safe_dump(dict(product.record), allow_unicode=True, sort_keys=False)
    if out is None:
        click.echo("--- record ---")
        click.echo(text, nl=False)
        return
    try:
        write_atomic(out, text.encode("utf-8"))
    except OSError as err:
        click.echo("--- record (not written to --out) ---")  # printed, so that the run is not lost
        click.echo(text, nl=False)
        raise InputError("--out", f"cannot write {out}: {err.strerror or err}; the record is printed above") from err
    click.echo(f"record written to {out}")


def _check_out(out: Path | None, *inputs: tuple[str, Path | None]) -> None:
    """Refuse an ``--out`` that cannot be written before the run starts, not after the operator's work, and one
    that would overwrite the run's own ``--state`` or ``--instrument`` file."""
    if out is None:
        return
    if out.is_dir():
        raise InputError("--out", f"{out} is a folder; give a file name")
    if not out.parent.is_dir():
        raise InputError("--out", f"the folder {out.parent} does not exist")
    for option, path in inputs:
        if path is not None and path.resolve() == out.resolve():
            raise InputError("--out", f"{out} is also the {option} file; the record would overwrite it")


def _report(session: Session, kind: str, out: Path | None) -> int:
    if session.status == "cancelled":
        click.echo("run cancelled: no record was produced")
        return EXIT_NOT_DONE
    product = session.product
    if product is None:  # pragma: no cover - a finished run always has its product
        return EXIT_NOT_DONE
    for line in product.summary:
        click.echo(line)
    _write_record(session, out)
    if product.error is not None or (kind == "verification" and product.passed is not True):
        return EXIT_NOT_DONE
    return EXIT_DONE


@click.command("run")
@click.argument("kind", type=click.Choice(["verification", "calibration"]))
@click.option("--instrument", "instrument", type=click.Path(path_type=Path, dir_okay=False),
              help="Record header / instrument YAML (not needed when resuming with --state).")  # fmt: skip
@click.option("--scale", "scale_url", help="Instrument address, e.g. tcp://127.0.0.1:4001?protocol=mt-sics.")
@click.option("--manual", is_flag=True, help="No instrument connected: indications are typed in.")
@click.option("--state", "state_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Save the run after every step in this JSON file; resume it if the file exists.")  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write the record to this YAML file.")
@click.option("--operator", help="Who performs the run (fills the header's operator).")
@click.option("--date", help="Date of the run, YYYY-MM-DD (default: today).")
@click.option(
    "--tests",
    help="Verification tests, comma-separated: zero-setting, weighing, eccentricity, repeatability, discrimination.",
)
@click.option("--loads", help="Calibration test loads, comma-separated (e.g. '50 g,100 g,200 g').")
@click.option("--unit", help="Unit of a bare number typed in (default: g below 100 kg Max, else kg).")
@click.option("--language", type=click.Choice(["en", "zh", "both"]), default="both", show_default=True)
def run_command(  # noqa: PLR0917 - one parameter per click option
    kind: str,
    instrument: Path | None,
    scale_url: str | None,
    manual: bool,
    state_path: Path | None,
    out: Path | None,
    operator: str | None,
    date: str | None,
    tests: str | None,
    loads: str | None,
    unit: str | None,
    language: str,
) -> int:
    """Guide a verification (OIML R 76 / JJG) or a calibration (EURAMET cg-18) step by step."""
    if manual == (scale_url is not None):
        raise InputError("--scale", "give either --scale URL or --manual")
    _check_out(out, ("--state", state_path), ("--instrument", instrument))
    state_file = JsonStateFile(state_path) if state_path is not None else None
    store: RunStore = state_file if state_file is not None else MemoryRunStore()
    runs = Runs(store)
    resuming = state_file is not None and state_file.path.exists()
    if state_file is not None and resuming:
        state = state_file.load_only()
        if state.kind != kind:
            raise InputError("--state", f"{state_path} holds a {state.kind} run, not a {kind}")
        run_id, parameters = state.run_id, dict(state.parameters)
    else:
        if instrument is None:
            raise InputError("--instrument", "give the instrument / record header file")
        request = {"record": _header(kind, instrument, operator, date), "options": _options(kind, tests, loads)}
        parameters = dict(runs.definition(kind).normalise(request))  # bad input refused before connecting
        run_id = uuid.uuid4().hex[:12]
    # a closed stdin (`hengqi run ... <&-`) is None in Python: read as an input that has ended (the run pauses)
    answers = sys.stdin if sys.stdin is not None else io.StringIO("")
    channel = StreamChannel(answers, sys.stdout, unit=_entry_unit(parameters, unit), language=language)
    opened = open_scale(scale_url) if scale_url is not None else None
    where = f"resume with --state {state_path}" if state_path else "it cannot be resumed (no --state)"
    try:
        if resuming:
            done = len(store.load(run_id).results)
            click.echo(f"resuming {kind} run {run_id} from {state_path} ({done} step{'' if done == 1 else 's'} done)")
            channel.count = done  # steps are numbered across resumptions
        else:
            runs.start(kind, parameters, run_id=run_id)
            if state_path is None:
                click.echo("note: without --state this run cannot be resumed if it is interrupted")
        session = Runner(runs, channel, opened, by=operator or "").run(run_id)
    except OperatorGoneError:
        click.echo(f"input ended: the run is paused; {where}", err=True)
        return EXIT_NOT_DONE
    except ScaleStepError as err:
        click.echo(f"hengqi: {err.cause}; nothing was recorded for this step; {where}", err=True)
        return EXIT_NOT_DONE
    finally:
        if opened is not None:
            opened.close()
    return _report(session, kind, out)


COMMANDS = (run_command,)
