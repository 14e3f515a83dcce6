"""Run every benchmark in ``bench/`` and print its table.

Each ``bench/bench_*.py`` module defines ``main(short: bool) -> None``.  ``--short`` (used by ``make test``)
runs each with small sizes so that the benchmarks cannot rot; the full tables in ``bench/README.md`` come from
``python bench/run.py`` (optionally ``--only NAME``).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short", action="store_true", help="small sizes, for CI")
    parser.add_argument("--only", action="append", default=[], help="run only bench_NAME.py (repeatable)")
    args = parser.parse_args(argv)
    failed = 0
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if args.only and name not in args.only:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise SystemExit(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"== bench {name} ({'short' if args.short else 'full'})", flush=True)
        started = time.perf_counter()
        try:
            module.main(short=args.short)
        except Exception as err:  # a broken benchmark fails the run, with its name
            print(f"bench {name} FAILED: {type(err).__name__}: {err}", file=sys.stderr)
            failed += 1
        print(f"== bench {name} done in {time.perf_counter() - started:.1f} s\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
