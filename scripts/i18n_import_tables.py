#!/usr/bin/env python3
"""Move texts written the earlier way (key -> (English, Chinese) tables) into the gettext catalogue.

    .venv/bin/python scripts/i18n_import_tables.py           report what would move, change nothing
    .venv/bin/python scripts/i18n_import_tables.py --write   add them to the .po and the key index (terms.py)
    .venv/bin/python scripts/i18n_import_tables.py --prune   --write, then empty the tables in the sources

A table is any module-level dict literal under src/hengqi/server whose values are (English, Chinese) pairs
(``MESSAGES`` in web/i18n.py, ``LAB_MESSAGES`` in web/lab_messages.py, ``TEXTS`` in field/pages.py, whose keys are
named ``field.<key>``, and any new one of the same shape).  For each entry:

* the key goes into ``TERMS`` of src/hengqi/server/web/terms.py as ``N_("English")``, so ``t('key')`` and
  ``translate(lang, "key")`` keep working once the table is emptied;
* the English becomes a msgid of zh_CN/LC_MESSAGES/hengqi.po with the Chinese as msgstr; where the catalogue
  already has that English with another Chinese, the entry gets the key as its msgctxt (``NP_("key", ...)``).

Running it again changes nothing (entries already in the catalogue and the index are left alone).  A key that
the index already has with another English text is reported and left for a person to decide.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "src" / "hengqi" / "server"
TERMS_FILE = SERVER / "web" / "terms.py"
CJK = re.compile(r"[\u4e00-\u9fff]")
#: tables whose keys are named with a prefix in the index (the field pages' ``ft('key')`` is ``t('field.key')``)
PREFIXES = {("field/pages.py", "TEXTS"): "field."}
#: the index itself and the catalogue tooling are not tables
SKIP = {TERMS_FILE}


@dataclass(frozen=True)
class Table:
    path: Path
    name: str
    node: ast.Dict
    entries: dict[str, tuple[str, str]]


def find_tables() -> list[Table]:
    tables = []
    for path in sorted(SERVER.rglob("*.py")):
        if path in SKIP:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for stmt in tree.body:
            target, value = None, None
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                target, value = stmt.target.id, stmt.value
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                target, value = stmt.targets[0].id, stmt.value
            if target is None or not isinstance(value, ast.Dict) or not value.keys:
                continue
            try:
                data = ast.literal_eval(value)
            except ValueError:
                continue
            if all(
                isinstance(k, str) and isinstance(v, tuple) and len(v) == 2 and all(isinstance(x, str) for x in v)
                for k, v in data.items()
            ) and any(CJK.search(v[1]) for v in data.values()):
                tables.append(Table(path, target, value, dict(data)))
    return tables


@dataclass(frozen=True)
class Indexed:
    text: str
    context: str | None


def read_index() -> dict[str, Indexed]:
    """``TERMS`` of terms.py, read from its source: key -> (English, msgctxt)."""
    tree = ast.parse(TERMS_FILE.read_text(encoding="utf-8"))
    node = next(
        s.value
        for s in tree.body
        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and s.target.id == "TERMS"
    )
    assert isinstance(node, ast.Dict)
    out = {}
    for key, value in zip(node.keys, node.values, strict=True):
        assert isinstance(key, ast.Constant)
        assert isinstance(value, ast.Call)
        args = [ast.literal_eval(a) for a in value.args]
        out[str(key.value)] = Indexed(args[-1], args[0] if len(args) == 2 else None)
    return out


def _literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def main(argv: list[str]) -> int:
    write = "--write" in argv or "--prune" in argv
    prune = "--prune" in argv
    sys.path.insert(0, str(ROOT / "src"))
    from babel.messages.catalog import Catalog

    from hengqi.locale.tools import read
    from hengqi.locale.tools import write as write_po

    TERMS = read_index()  # noqa: N806 (read from the source: importing hengqi.server would start the whole app)

    catalogue: Catalog = read("zh")
    translations = {(m.context, m.id): m.string for m in catalogue if m.id}
    index_lines: list[str] = []
    added_po = 0
    conflicts: list[str] = []
    tables = find_tables()
    indexed = set(TERMS)
    for table in tables:
        prefix = PREFIXES.get((table.path.relative_to(SERVER).as_posix(), table.name), "")
        print(f"{table.path.relative_to(ROOT)}: {table.name}, {len(table.entries)} entries")
        for raw_key, (english, chinese) in table.entries.items():
            key = prefix + raw_key
            if not english.strip():
                continue
            known = TERMS.get(key)
            if known is None and key in indexed:
                continue  # indexed earlier in this run (the same key in two tables)
            if known is not None and known.text != english:
                conflicts.append(f"{key}: index has {known.text!r}, the table {english!r}")
                continue
            context = known.context if known is not None else None
            have = translations.get((context, english))
            if known is None and have and have != chinese:
                context = key  # the same English, another Chinese: this entry gets its own msgctxt
                have = translations.get((context, english))
            if not have:
                catalogue.add(english, chinese, [("server/web/terms.py", None)], context=context)
                translations[(context, english)] = chinese
                added_po += 1
            if known is None:
                mark = f"NP_({_literal(context)}, {_literal(english)})" if context else f"N_({_literal(english)})"
                index_lines.append(f"    {_literal(key)}: {mark},")
                indexed.add(key)
    print(f"{added_po} new texts for the catalogue, {len(index_lines)} new keys for the index")
    for conflict in conflicts:
        print(f"CONFLICT {conflict}", file=sys.stderr)
    if not write:
        return 1 if conflicts else 0
    if added_po:
        write_po("zh", catalogue)
    touched = [TERMS_FILE] if index_lines else []
    if index_lines:
        _insert_into_index(index_lines)
    if prune:
        for table in reversed(tables):  # later tables in a file first: line numbers stay valid
            _empty(table)
            touched.append(table.path)
    ruff = shutil.which("ruff") or str(ROOT / ".venv" / "bin" / "ruff")
    if touched and Path(ruff).exists():
        subprocess.run([ruff, "format", "--quiet", *map(str, sorted(set(touched)))], check=False)
    return 1 if conflicts else 0


def _insert_into_index(lines: list[str]) -> None:
    source = TERMS_FILE.read_text(encoding="utf-8")
    tree = ast.parse(source)
    node = next(
        s.value
        for s in tree.body
        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and s.target.id == "TERMS"
    )
    assert node is not None
    assert node.end_lineno is not None
    text = source.splitlines(keepends=True)
    end = node.end_lineno - 1  # the line of the closing brace
    text[end:end] = [line + "\n" for line in lines]
    TERMS_FILE.write_text("".join(text), encoding="utf-8")


def _empty(table: Table) -> None:
    text = table.path.read_text(encoding="utf-8").splitlines(keepends=True)
    node = table.node
    assert node.end_lineno is not None
    assert node.end_col_offset is not None
    first, last = node.lineno - 1, node.end_lineno - 1
    head = text[first].encode()[: node.col_offset].decode()  # ast's offsets count UTF-8 bytes
    tail = text[last].encode()[node.end_col_offset :].decode()
    text[first : last + 1] = [head + "{}" + tail]
    table.path.write_text("".join(text), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
