#!/usr/bin/env python3
"""Move texts written the earlier way (key -> (English, Chinese) tables) into the gettext catalogue.

    .venv/bin/python scripts/i18n_import_tables.py           report what would move, change nothing
    .venv/bin/python scripts/i18n_import_tables.py --write   add them to the .po and the key index (terms.py)
    .venv/bin/python scripts/i18n_import_tables.py --prune   --write, then empty the tables in the sources
    ... --from-git REF   also read the tables as commit REF has them (repeatable): after a merge whose
                         conflicts in the table files were resolved with this branch's (empty) tables,
                         ``--prune --from-git h/other`` imports the entries that branch added

A table is any module-level dict literal under src/hengqi/server whose values are (English, Chinese) pairs
(``MESSAGES`` in web/i18n.py, ``LAB_MESSAGES`` in web/lab_messages.py, ``TEXTS`` in field/pages.py, whose keys are
named ``field.<key>``, and any new one of the same shape).  For each entry:

* the key goes into ``TERMS`` of src/hengqi/server/web/terms.py as ``N_("English")``, so ``t('key')`` and
  ``translate(lang, "key")`` keep working once the table is emptied;
* the English becomes a msgid of zh_CN/LC_MESSAGES/hengqi.po with the Chinese as msgstr; where the catalogue
  already has that English with another Chinese, the entry gets the key as its msgctxt (``NP_("key", ...)``).

Running it again changes nothing (entries already in the catalogue and the index are left alone).  A key that
the index already has with another English text takes the table's text (the tables hold only what was written
after the conversion, so theirs is the newer); ``scripts/i18n.py update`` then drops the old text if nothing
else uses it.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
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
    ref: str | None = None  # the commit read (None: the working tree)


def _working_tree() -> Iterator[tuple[Path, str]]:
    for path in sorted(SERVER.rglob("*.py")):
        yield path, path.read_text(encoding="utf-8")


def _git_tree(ref: str) -> Iterator[tuple[Path, str]]:
    """The server's Python files as commit ``ref`` has them (a branch written the earlier way)."""
    server = SERVER.relative_to(ROOT).as_posix()
    names = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", ref, "--", server],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in sorted(n for n in names if n.endswith(".py")):
        text = subprocess.run(
            ["git", "show", f"{ref}:{name}"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode("utf-8")
        yield ROOT / name, text


def find_tables(sources: Iterable[tuple[Path, str]]) -> list[Table]:
    tables = []
    for path, source in sources:
        if path in SKIP:
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
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


def _literal_uses(text: str) -> list[str]:
    """Where the sources write ``text`` out as a quoted literal (templates' ``_('...')``, Python's gettext)."""
    quoted = {f"'{text}'", f'"{text}"', _literal(text)}
    places = []
    for path in sorted((ROOT / "src" / "hengqi").rglob("*")):
        if path.suffix not in (".py", ".html") or path == TERMS_FILE:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(q in line for q in quoted):
                places.append(f"{path.relative_to(ROOT)}:{number}")
    return places


def _literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def main(argv: list[str]) -> int:
    write = "--write" in argv or "--prune" in argv
    prune = "--prune" in argv
    refs = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--from-git"]
    sys.path.insert(0, str(ROOT / "src"))
    from babel.messages.catalog import Catalog

    from hengqi.locale.tools import read
    from hengqi.locale.tools import write as write_po

    TERMS = read_index()  # noqa: N806 (read from the source: importing hengqi.server would start the whole app)

    catalogue: Catalog = read("zh")
    translations = {(m.context, m.id): m.string for m in catalogue if m.id}
    index_lines: list[str] = []
    added_po = 0
    tables = find_tables(_working_tree())
    for ref in refs:
        tables += [replace(t, ref=ref) for t in find_tables(_git_tree(ref))]
    indexed = set(TERMS)
    changed: dict[str, str] = {}
    replaced: dict[str, str] = {}  # key -> its new line in the index
    for table in tables:
        prefix = PREFIXES.get((table.path.relative_to(SERVER).as_posix(), table.name), "")
        where = f"{table.ref}:" if table.ref else ""
        print(f"{where}{table.path.relative_to(ROOT)}: {table.name}, {len(table.entries)} entries")
        for raw_key, (english, chinese) in table.entries.items():
            key = prefix + raw_key
            if not english.strip() or CJK.search(english):
                continue  # no English text (the old language switch showed "中文" in English pages)
            known = TERMS.get(key)
            if known is None and key in indexed:
                continue  # indexed earlier in this run (the same key in two tables)
            if known is not None and known.text != english:
                # the table's English is the newer one (this branch emptied its own tables): the key now names it
                print(f"  changed key {key}: {known.text!r} -> {english!r}")
                for place in _literal_uses(known.text):
                    print(f"    the old English is written out at {place}: show t('{key}') or the new text there")
                changed[key] = english
                known = None
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
                if key in changed:
                    replaced[key] = f"    {_literal(key)}: {mark},"
                else:
                    index_lines.append(f"    {_literal(key)}: {mark},")
                    print(f"  new key {key}: {english!r} -> {chinese!r}")
                indexed.add(key)
    print(
        f"{added_po} new texts for the catalogue, {len(index_lines)} new keys for the index, "
        f"{len(replaced)} keys with a new English text"
    )
    if not write:
        return 0
    if added_po:
        write_po("zh", catalogue)
    touched = [TERMS_FILE] if index_lines or replaced else []
    if index_lines or replaced:
        _rewrite_index(index_lines, replaced)
    if prune:
        for table in reversed([t for t in tables if t.ref is None]):  # later ones first: line numbers stay valid
            _empty(table)
            touched.append(table.path)
    ruff = shutil.which("ruff") or str(ROOT / ".venv" / "bin" / "ruff")
    if touched and Path(ruff).exists():
        subprocess.run([ruff, "format", "--quiet", *map(str, sorted(set(touched)))], check=False)
    return 0


def _rewrite_index(lines: list[str], replaced: dict[str, str]) -> None:
    """Add ``lines`` to ``TERMS`` and put ``replaced``'s lines in place of those keys' entries."""
    source = TERMS_FILE.read_text(encoding="utf-8")
    tree = ast.parse(source)
    node = next(
        s.value
        for s in tree.body
        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and s.target.id == "TERMS"
    )
    assert isinstance(node, ast.Dict)
    assert node.end_lineno is not None
    text = source.splitlines(keepends=True)
    end = node.end_lineno - 1  # the line of the closing brace
    text[end:end] = [line + "\n" for line in lines]
    spans = []
    for key, value in zip(node.keys, node.values, strict=True):
        assert isinstance(key, ast.Constant)
        assert value.end_lineno is not None
        if key.value in replaced:
            spans.append((key.lineno - 1, value.end_lineno, replaced[str(key.value)]))
    for first, last, line in sorted(spans, reverse=True):  # entries before the insertion point: later first
        text[first:last] = [line + "\n"]
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
