"""Reading record files: YAML with line and column in every syntax error, and pydantic errors translated.

Every failure becomes a :class:`hengqi.errors.RecordError` whose path names the offending field
(``tests.weighing.points[2].indication``) or, for a YAML syntax error, the file, line and column.  Duplicate
keys are refused (a second value silently replacing the first would lose data).

>>> parse_yaml_text("a: 1\\nb: [2, 3]\\n")
{'a': 1, 'b': [2, 3]}
>>> parse_yaml_text("a: 1\\na: 2\\n", source="r.yaml")
Traceback (most recent call last):
...
hengqi.errors.RecordError: r.yaml: line 2, column 1: duplicate key 'a' (first at line 1)
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from hengqi.errors import RecordError

_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field (not part of this record format; check the spelling)",
}


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate mapping keys."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Hashable, yaml.Node] = {}
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, Hashable) and key in seen:
            first = seen[key].start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {first})", key_node.start_mark
            )
        if isinstance(key, Hashable):
            seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml_text(text: str, *, source: str = "<text>") -> Any:
    """Parse YAML text safely; a syntax error becomes a :class:`RecordError` naming line and column."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "invalid YAML"
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise RecordError(source, f"{where}{problem}") from err
    except yaml.YAMLError as err:
        raise RecordError(source, f"invalid YAML: {err}") from err


def read_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file; a missing or unreadable file is a :class:`RecordError` too."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise RecordError(str(file), "no such file") from err
    except IsADirectoryError as err:
        raise RecordError(str(file), "is a directory, not a record file") from err
    except UnicodeDecodeError as err:
        raise RecordError(str(file), f"not UTF-8 text (byte {err.start})") from err
    except OSError as err:
        raise RecordError(str(file), f"cannot be read: {err.strerror or err}") from err
    return parse_yaml_text(text, source=str(file))


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a field path: ``('tests', 'points', 2, 'load')`` -> ``tests.points[2].load``.

    >>> field_path(("tests", "weighing", "points", 2, "indication"))
    'tests.weighing.points[2].indication'
    """
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _message(error: ErrorDetails) -> str:
    if error["type"] in _MESSAGES:
        return _MESSAGES[error["type"]]
    message = error["msg"]
    return message.removeprefix("Value error, ")


def record_error(err: ValidationError) -> RecordError:
    """The first error of a pydantic :class:`ValidationError`, as a :class:`RecordError` with its field path.

    The number of further errors, if any, is kept in ``details["more"]``.
    """
    errors = err.errors(include_url=False)
    first = errors[0]
    return RecordError(field_path(tuple(first["loc"])), _message(first), details={"more": len(errors) - 1})
