"""Reading record files: YAML with line and column in every syntax error, and pydantic errors translated.

Every failure becomes a :class:`hengqi.errors.RecordError` whose path names the offending field
(``tests.weighing.points[2].indication``) or, for a YAML syntax error, the file, line and column.  Duplicate
keys are refused (a second value silently replacing the first would lose data).  Documents that would blow up
when read are refused too: aliases that expand to more than :data:`MAX_EXPANDED_NODES` nodes (a "billion laughs"
bomb), recursive aliases, nesting deeper than the parser can follow, and integers too long to convert.

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


#: Most nodes a document may expand to through aliases when it has far fewer distinct nodes.
MAX_EXPANDED_NODES = 100_000


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse recursive aliases, and aliases that multiply the document beyond :data:`MAX_EXPANDED_NODES` nodes.

    Sizes are counted over the node graph (an alias is the node it names), without expanding anything.
    """
    size: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            total = 1 + sum(size[id(child)] for child in _children(node))
            size[key] = min(total, MAX_EXPANDED_NODES + 1)
            continue
        if key in size:
            continue
        if key in open_nodes:
            line = node.start_mark.line + 1
            raise RecordError(source, f"line {line}: an alias refers to a node that contains it (recursive alias)")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)
    if size[id(root)] > MAX_EXPANDED_NODES and len(size) * 2 < size[id(root)]:
        raise RecordError(
            source,
            f"aliases expand the document to more than {MAX_EXPANDED_NODES} values (an alias bomb?); "
            "write the values out or use fewer aliases",
        )


def parse_yaml_text(text: str, *, source: str = "<text>") -> Any:
    """Parse YAML text safely; a syntax error becomes a :class:`RecordError` naming line and column.

    >>> parse_yaml_text("a: &x [1, 2]\\nb: *x\\n")
    {'a': [1, 2], 'b': [1, 2]}
    >>> parse_yaml_text("a: [" * 5000, source="deep.yaml")
    Traceback (most recent call last):
    ...
    hengqi.errors.RecordError: deep.yaml: nested too deeply to be read
    """
    loader: _UniqueKeyLoader | None = None
    try:
        loader = _UniqueKeyLoader(text)  # a SafeLoader subclass
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, source)
        return loader.construct_document(node)
    except RecordError:
        raise
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "invalid YAML"
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise RecordError(source, f"{where}{problem}") from err
    except yaml.reader.ReaderError as err:
        code = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "\0")
        raise RecordError(source, f"character {err.position + 1}: {err.reason} (U+{code:04X})") from err
    except yaml.YAMLError as err:
        raise RecordError(source, "invalid YAML: " + " ".join(str(err).split())) from err
    except RecursionError as err:
        raise RecordError(source, "nested too deeply to be read") from err
    except ValueError as err:  # an integer with more digits than Python converts (sys.get_int_max_str_digits)
        raise RecordError(source, f"a number is too long to read ({' '.join(str(err).split()[:5])})") from err
    finally:
        if loader is not None:
            loader.dispose()


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
    >>> field_path(("tests", "weigh\\ning"))
    "tests['weigh\\\\ning']"
    """
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not part or not part.isprintable() or part.strip() != part or any(c in part for c in ".[]"):
            path += f"[{part!r}]"  # a key as odd as a user may write it ('', 'a.b', a line break) stays one token
        else:
            path += f".{part}" if path else str(part)
    return path


def _message(error: ErrorDetails) -> str:
    if error["type"] in _MESSAGES:
        return _MESSAGES[error["type"]]
    message = error["msg"].replace("\r", "\\r").replace("\n", "\\n")  # one line, whatever the input held
    return message.removeprefix("Value error, ")


def record_error(err: ValidationError) -> RecordError:
    """The first error of a pydantic :class:`ValidationError`, as a :class:`RecordError` with its field path.

    The number of further errors, if any, is kept in ``details["more"]``.
    """
    errors = err.errors(include_url=False)
    first = errors[0]
    return RecordError(field_path(tuple(first["loc"])), _message(first), details={"more": len(errors) - 1})
