"""Shared helpers of the robustness tests: run ``hengqi`` in-process and check how it refuses bad input.

House rule: bad input never crashes and never loses data.  A refusal is exit 2 with exactly one line on stderr
(``hengqi: error: <field or option or file>: <reason>``), never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hengqi.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one ``hengqi`` call did: exit status, stdout, stderr."""

    rc: int
    out: str
    err: str

    def refused(self, *needles: str) -> str:
        """Assert a clean refusal (exit 2, one stderr line naming each needle); return that line."""
        lines = self.err.strip().splitlines()
        assert self.rc == 2, (self.rc, self.err)
        assert len(lines) == 1, self.err
        assert "Traceback" not in self.err
        line = lines[0]
        assert line.startswith("hengqi: error: "), line
        for needle in needles:
            assert needle in line, (needle, line)
        return line


Hengqi = Callable[..., Outcome]


@pytest.fixture
def hengqi(capsys: pytest.CaptureFixture[str]) -> Hengqi:
    """Call ``hengqi ARGS...`` in-process; any exception escaping :func:`cli` fails the test."""

    def call(*args: str | Path) -> Outcome:
        capsys.readouterr()
        rc = cli([str(arg) for arg in args])
        captured = capsys.readouterr()
        return Outcome(rc, captured.out, captured.err)

    return call


#: Byte strings that are not YAML/JSON/XML anyone meant to write (file-reader attacks).
GARBAGE = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "invalid-utf8": b"format: \xff\xfe\n",
    "nul": b"format: \x00\n",
    "list": b"- 1\n- 2\n",
    "scalar": b"42\n",
    "null": b"~\n",
    "deep-list": b"[" * 20_000 + b"]" * 20_000,
    "deep-map": b"a: {" * 5_000 + b"}" * 5_000,
    "long-int": b"format: " + b"9" * 10_000 + b"\n",
    "duplicate-key": b"format: a\nformat: b\n",
    "python-tag": b"!!python/object/apply:os.system ['echo pwned']\n",
    "recursive-alias": b"a: &a [*a]\n",
}


def billion_laughs(levels: int = 9) -> bytes:
    """A YAML alias bomb: ``levels`` nested lists of ten aliases each (10**levels values when expanded)."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    return ("\n".join(lines) + "\n").encode()
