#!/usr/bin/env python3
"""Keep hengqi's gettext catalogues (docs/web.md, "Translations").

    scripts/i18n.py extract [OUT.pot]  the texts the sources mark (default build/i18n/hengqi.pot)
    scripts/i18n.py update             merge them into every .po: new texts untranslated, vanished ones dropped
    scripts/i18n.py compile [DIR]      check and compile every .po to DIR/<locale>/LC_MESSAGES/hengqi.mo (build/i18n)
    scripts/i18n.py check              exit 1 unless every .po is complete (what tests/web/test_catalogue.py asserts)

(run with the project's environment: ``.venv/bin/python scripts/i18n.py ...``)

The running application reads the .po files themselves (hengqi.locale); no .mo is committed.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.pofile import write_po

from hengqi.locale import LANGUAGES, po_path
from hengqi.locale.tools import compile_mo, extract, problems, read, update

ROOT = Path(__file__).resolve().parents[1]
LANGS = [lang for lang in LANGUAGES if lang != "en"]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("extract", "update", "compile", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "extract":
        out = Path(rest[0]) if rest else ROOT / "build" / "i18n" / "hengqi.pot"
        out.parent.mkdir(parents=True, exist_ok=True)
        template = extract()
        buffer = io.BytesIO()
        write_po(buffer, template, width=120, sort_output=True, include_lineno=False)
        out.write_bytes(buffer.getvalue())
        print(f"{len(template)} texts -> {out}")
    elif command == "update":
        for lang in LANGS:
            catalogue = update(lang)
            empty = sum(1 for m in catalogue if m.id and not m.string)
            print(f"{po_path(lang).relative_to(ROOT)}: {len(catalogue)} texts, {empty} to translate")
    elif command == "compile":
        target = Path(rest[0]) if rest else ROOT / "build" / "i18n"
        for lang in LANGS:
            errors = [f"{m.id!r}: {e}" for m, errs in read(lang).check() for e in errs]
            for error in errors:
                print(f"{lang}: {error}", file=sys.stderr)
            if errors:
                return 1
            print(compile_mo(lang, target))
    else:
        template = extract()
        failed = False
        for lang in LANGS:
            found = problems(lang, template)
            for field in ("missing", "untranslated", "obsolete", "format_errors"):
                for name in getattr(found, field):
                    print(f"{lang} {field}: {name}", file=sys.stderr)
            failed |= bool(found)
            print(f"{lang}: {'incomplete' if found else 'complete'}")
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
