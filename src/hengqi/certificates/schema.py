"""Offline validation of Digital Calibration Certificates against PTB's XSDs, with two independent engines.

PTB publishes the DCC schema at https://www.ptb.de/dcc/ (``https://ptb.de/dcc/v{version}/dcc.xsd``) and the D-SI
schema at https://www.ptb.de/si/ (``https://ptb.de/si/v{version}/SI_Format.xsd``); both import further schemas by
URL.  hengqi never fetches them: every import is mapped to a local file in a *schema folder* laid out as::

    <schema dir>/dcc-3.3.0/dcc.xsd              (https://ptb.de/dcc/v3.3.0/dcc.xsd)
    <schema dir>/d-si-2.2.1/SI_Format.xsd       (https://ptb.de/si/v2.2.1/SI_Format.xsd)
    <schema dir>/qudt-stub/quantitykind.xsd     (https://www.ptb.de/si/v2.2.1/qudt/quantitykind.xsd, or a stand-in)
    <schema dir>/xmldsig/xmldsig-core-schema.xsd  (W3C XML-DSig core schema)
    <schema dir>/dcc-3.2.0/dcc.xsd, d-si-2.1.0/, dcc-3.0.0/dcc.xsd, d-si-2.0.0/   (older versions, optional)

A certificate is validated against the XSD set of the version it declares (``schemaVersion``; each XSD accepts
only its own version).  Both xmlschema (decoding, paths) and lxml/libxml2 (an independent implementation) must
accept it.  The folder comes from the caller, else the environment variable ``HENGQI_DCC_SCHEMA_DIR``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from lxml import etree

from hengqi.certificates.errors import DccFormatError, SchemaNotFoundError
from hengqi.certificates.limits import MAX_DCC_BYTES, check_dcc_file
from hengqi.certificates.xml_errors import xml_syntax_text

__all__ = [
    "SCHEMA_DIR_ENV",
    "SCHEMA_SETS",
    "SchemaIssue",
    "ValidationReport",
    "resolve_schema_dir",
    "validate_dcc",
]

SCHEMA_DIR_ENV: Final = "HENGQI_DCC_SCHEMA_DIR"
DCC_NS: Final = "https://ptb.de/dcc"
PTB_DOWNLOAD_HINT: Final = (
    "get PTB's XSDs from https://www.ptb.de/dcc/ (https://ptb.de/dcc/v3.3.0/dcc.xsd) and "
    "https://www.ptb.de/si/ (https://ptb.de/si/v2.2.1/SI_Format.xsd) plus W3C's xmldsig-core-schema.xsd, and lay "
    "them out as DIR/dcc-3.3.0/dcc.xsd, DIR/d-si-2.2.1/SI_Format.xsd, DIR/qudt-stub/quantitykind.xsd, "
    "DIR/xmldsig/xmldsig-core-schema.xsd; then pass --schema-dir DIR or set HENGQI_DCC_SCHEMA_DIR"
)


@dataclass(frozen=True, slots=True)
class SchemaSet:
    """The files one DCC version needs: its ``dcc.xsd`` and the local file for each remote import."""

    version: str
    dcc_xsd: str
    imports: tuple[tuple[str, str], ...]  # (remote URL, path relative to the schema folder)


_DSIG: Final = "xmldsig/xmldsig-core-schema.xsd"

#: Known DCC versions and the local layout of their schema files.
SCHEMA_SETS: Final[dict[str, SchemaSet]] = {
    "3.3.0": SchemaSet(
        "3.3.0",
        "dcc-3.3.0/dcc.xsd",
        (
            ("https://ptb.de/si/v2.2.1/SI_Format.xsd", "d-si-2.2.1/SI_Format.xsd"),
            ("https://www.ptb.de/si/v2.2.1/qudt/quantitykind.xsd", "qudt-stub/quantitykind.xsd"),
            ("https://www.ptb.de/dcc/d-sig/xmldsig-core-schema.xsd", _DSIG),
        ),
    ),
    "3.2.0": SchemaSet(
        "3.2.0",
        "dcc-3.2.0/dcc.xsd",
        (
            ("https://ptb.de/si/v2.1.0/SI_Format.xsd", "d-si-2.1.0/SI_Format.xsd"),
            ("https://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd", _DSIG),
            ("http://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd", _DSIG),
        ),
    ),
    "3.0.0": SchemaSet(
        "3.0.0",
        "dcc-3.0.0/dcc.xsd",
        (
            ("https://ptb.de/si/v2.0.0/SI_Format.xsd", "d-si-2.0.0/SI_Format.xsd"),
            ("https://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd", _DSIG),
            ("http://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd", _DSIG),
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    """One reason a file is not valid: which engine found it, where (XPath-like path and line), and why."""

    engine: str  # "xmlschema" or "lxml"
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"[{self.engine}] {where}{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome of validating one file with both engines."""

    file: str
    version: str
    schema: str
    issues: tuple[SchemaIssue, ...]
    engines: tuple[str, ...] = ("xmlschema", "lxml")

    @property
    def valid(self) -> bool:
        return not self.issues


def resolve_schema_dir(schema_dir: str | os.PathLike[str] | None = None) -> Path:
    """The schema folder: ``schema_dir`` if given, else ``$HENGQI_DCC_SCHEMA_DIR``; :class:`SchemaNotFoundError`
    with download instructions when neither names an existing folder."""
    chosen = schema_dir if schema_dir is not None else os.environ.get(SCHEMA_DIR_ENV)
    if not chosen:
        raise SchemaNotFoundError("schema-dir", f"no DCC schema folder given; {PTB_DOWNLOAD_HINT}")
    path = Path(chosen).expanduser().resolve()
    if not path.is_dir():
        raise SchemaNotFoundError("schema-dir", f"{path} is not a folder; {PTB_DOWNLOAD_HINT}")
    return path


def _schema_files(root: Path, version: str) -> tuple[Path, dict[str, Path]]:
    schema_set = SCHEMA_SETS.get(version)
    if schema_set is None:
        known = ", ".join(SCHEMA_SETS)
        raise DccFormatError("schemaVersion", f"unsupported DCC version {version!r} (hengqi validates {known})")
    main = root / schema_set.dcc_xsd
    mapping = {url: (root / rel).resolve() for url, rel in schema_set.imports}
    for path in (main, *mapping.values()):
        if not path.is_file():
            raise SchemaNotFoundError("schema-dir", f"missing {path} for DCC {version}; {PTB_DOWNLOAD_HINT}")
    return main.resolve(), mapping


def _has_doctype(tree: etree._ElementTree) -> bool:
    """Whether a parsed document declares a DOCTYPE (an internal subset, a SYSTEM or a PUBLIC identifier)."""
    info = tree.docinfo
    return info.internalDTD is not None or bool(getattr(info, "doctype", ""))  # lxml-stubs lack .doctype


def _parse(file: Path) -> etree._ElementTree:
    if not file.is_file():
        raise DccFormatError(str(file), "is a folder, not a file" if file.is_dir() else "no such file")
    parser = etree.XMLParser(no_network=True, resolve_entities=False, huge_tree=False)
    try:
        tree = etree.parse(str(file), parser)
    except etree.XMLSyntaxError as err:
        raise DccFormatError(str(file), f"not well-formed XML: {xml_syntax_text(err)}") from err
    except OSError as err:  # lxml reports some encoding errors of a file as OSError
        raise DccFormatError(str(file), f"not readable as XML: {err}") from err
    if _has_doctype(tree):
        # a DCC has no DTD; entities left unresolved (never fetched or read) would break the schema engines
        raise DccFormatError(str(file), "a DCC must not have a DOCTYPE declaration (DTDs and entities are refused)")
    return tree


def declared_version(tree: etree._ElementTree) -> str:
    """The ``schemaVersion`` a DCC declares; :class:`DccFormatError` when the root is not a DCC."""
    root = tree.getroot()
    if root.tag != f"{{{DCC_NS}}}digitalCalibrationCertificate":
        raise DccFormatError("/", f"root element is {root.tag!r}, not dcc:digitalCalibrationCertificate")
    version = root.get("schemaVersion")
    if not version:
        raise DccFormatError("/dcc:digitalCalibrationCertificate/@schemaVersion", "missing")
    return version


@lru_cache(maxsize=8)
def _xmlschema(main: Path, mapping_items: tuple[tuple[str, Path], ...]) -> Any:
    import xmlschema

    mapping = dict(mapping_items)
    mapper: Callable[[str], str] = lambda url: str(mapping[url]) if url in mapping else url  # noqa: E731
    return xmlschema.XMLSchema(str(main), uri_mapper=mapper, allow="local")


def _xmlschema_issues(tree: etree._ElementTree, main: Path, mapping: dict[str, Path]) -> list[SchemaIssue]:
    schema = _xmlschema(main, tuple(sorted(mapping.items())))
    issues = []
    for err in schema.iter_errors(tree):
        line = getattr(err, "sourceline", None)
        issues.append(SchemaIssue("xmlschema", str(err.path or "/"), line, str(err.reason or err.message)))
    return issues


class _LocalResolver(etree.Resolver):
    def __init__(self, mapping: dict[str, Path]) -> None:
        super().__init__()
        self.mapping = mapping

    def resolve(self, system_url: str, public_id: str, context: object = None) -> Any:
        if system_url in self.mapping:
            return self.resolve_filename(str(self.mapping[system_url]), context)  # type: ignore[attr-defined]
        return None


@lru_cache(maxsize=8)
def _lxml_schema(main: Path, mapping_items: tuple[tuple[str, Path], ...]) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_LocalResolver(dict(mapping_items)))
    return etree.XMLSchema(etree.parse(str(main), parser))


def _lxml_issues(tree: etree._ElementTree, main: Path, mapping: dict[str, Path]) -> list[SchemaIssue]:
    schema = _lxml_schema(main, tuple(sorted(mapping.items())))
    if schema.validate(tree):
        return []
    entries: list[Any] = list(schema.error_log)  # type: ignore[call-overload]
    return [SchemaIssue("lxml", e.path or "/", e.line or None, e.message) for e in entries]


def validate_dcc(
    file: str | os.PathLike[str],
    schema_dir: str | os.PathLike[str] | None = None,
    *,
    max_bytes: int = MAX_DCC_BYTES,
) -> ValidationReport:
    """Validate ``file`` against the XSD set of its declared DCC version with xmlschema and with lxml, offline.

    Raises :class:`DccFormatError` for a file that is missing, not XML or not a DCC (or, before parsing, larger
    than ``max_bytes``: :class:`~hengqi.certificates.limits.DccTooLargeError`), and :class:`SchemaNotFoundError`
    when the schema files are missing.
    """
    path = Path(file)
    check_dcc_file(path, max_bytes)
    root = resolve_schema_dir(schema_dir)
    tree = _parse(path)
    version = declared_version(tree)
    main, mapping = _schema_files(root, version)
    issues = _xmlschema_issues(tree, main, mapping) + _lxml_issues(tree, main, mapping)
    return ValidationReport(str(path), version, str(main), tuple(issues))
