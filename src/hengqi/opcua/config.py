"""What ``hengqi opcua serve`` is told: the scales, their legal data, the users; validated once, immutable.

A YAML file (``--config``) may give, per scale, what the instrument does not report over its protocol: the
verification scale interval ``e`` and whether the instrument is legal for trade (OPC 40200 v2.00 Table 25
``VerificationScaleInterval``, Table 143 ``LegalForTrade``), and the values of hengqi's extension
(:mod:`hengqi.opcua.extension`); and the users allowed to open a session, with argon2 password hashes::

    users:
      mes: "$argon2id$v=19$m=65536,t=3,p=4$..."
    scales:
      - url: tcp://127.0.0.1:4001?protocol=mt-sics
        name: Balance1
        e: 1 mg
        legal_for_trade: true
        extension:
          calibration_counter: 4
          configuration_counter: 2
          event_log: ["2026-11-02T09:00:00Z span adjusted"]
          software_id: "V1.20"
          software_checksum: "8A3F"
          verification_status: verified
          verification_due: 2027-11-02
          last_certificate_id: "HQ-2026-0042"

>>> parse_config({"scales": [{"url": "tcp://127.0.0.1:4001?protocol=mt-sics", "e": "1 mg"}]}).scales[0].e_kg
Decimal('0.000001')
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from hengqi.errors import InputError
from hengqi.instruments.transport import parse_address
from hengqi.metrology.quantities import parse_mass

#: Verification status values of the extension (hengqi's own vocabulary, documented in docs/opcua.md).
VERIFICATION_STATUSES = ("unknown", "verified", "expired", "failed", "not-required")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
_MAX_LOG = 1000


@dataclass(frozen=True, slots=True)
class Extension:
    """Values of the hengqi extension nodes of one scale (None: not known, shown with a Bad status)."""

    calibration_counter: int | None = None
    configuration_counter: int | None = None
    event_log: tuple[str, ...] = ()
    software_id: str | None = None
    software_checksum: str | None = None
    verification_status: str = "unknown"
    verification_due: dt.date | None = None
    last_certificate_id: str | None = None


@dataclass(frozen=True, slots=True)
class ScaleOptions:
    """One scale to expose: its instrument URL, browse name, legal data and extension values."""

    url: str
    name: str
    e_kg: Decimal | None = None
    legal_for_trade: bool = False
    extension: Extension = field(default_factory=Extension)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The scales and the users (name -> argon2 hash)."""

    scales: tuple[ScaleOptions, ...]
    users: Mapping[str, str] = field(default_factory=dict)


def _text(value: object, path: str, limit: int = 256) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InputError(path, f"expected text, got {type(value).__name__}")
    text = str(value)
    if len(text) > limit:
        raise InputError(path, f"longer than {limit} characters")
    return text


def _counter(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**32 - 1:
        raise InputError(path, f"expected a whole number from 0 to {2**32 - 1}, got {value!r}")
    return value


def _extension(raw: object, path: str) -> Extension:
    if raw is None:
        return Extension()
    if not isinstance(raw, Mapping):
        raise InputError(path, "expected a mapping")
    known = set(Extension.__dataclass_fields__)
    for key in raw:
        if key not in known:
            raise InputError(f"{path}.{key}", f"unknown field (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for key in ("calibration_counter", "configuration_counter"):
        if raw.get(key) is not None:
            values[key] = _counter(raw[key], f"{path}.{key}")
    for key in ("software_id", "software_checksum", "last_certificate_id"):
        if raw.get(key) is not None:
            values[key] = _text(raw[key], f"{path}.{key}")
    log = raw.get("event_log") or []
    if not isinstance(log, Sequence) or isinstance(log, str):
        raise InputError(f"{path}.event_log", "expected a list of entries")
    if len(log) > _MAX_LOG:
        raise InputError(f"{path}.event_log", f"more than {_MAX_LOG} entries")
    values["event_log"] = tuple(_text(item, f"{path}.event_log[{i}]", 1024) for i, item in enumerate(log))
    status = raw.get("verification_status", "unknown")
    if status not in VERIFICATION_STATUSES:
        raise InputError(f"{path}.verification_status", f"expected one of {', '.join(VERIFICATION_STATUSES)}")
    values["verification_status"] = status
    due = raw.get("verification_due")
    if due is not None:
        if isinstance(due, str):
            try:
                due = dt.date.fromisoformat(due)
            except ValueError as err:
                raise InputError(f"{path}.verification_due", f"expected a date YYYY-MM-DD, got {due!r}") from err
        if not isinstance(due, dt.date) or isinstance(due, dt.datetime):
            raise InputError(f"{path}.verification_due", "expected a date YYYY-MM-DD")
        values["verification_due"] = due
    return Extension(**values)


def _scale(raw: object, index: int) -> ScaleOptions:
    path = f"scales[{index}]"
    if isinstance(raw, str):
        raw = {"url": raw}
    if not isinstance(raw, Mapping):
        raise InputError(path, "expected a URL or a mapping with url:")
    known = {"url", "name", "e", "legal_for_trade", "extension"}
    for key in raw:
        if key not in known:
            raise InputError(f"{path}.{key}", f"unknown field (known: {', '.join(sorted(known))})")
    url = _text(raw.get("url", ""), f"{path}.url", 1024)
    parse_address(url)  # AddressError (an InputError) names the URL
    name = raw.get("name") or f"Scale{index + 1}"
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(f"{path}.name", "expected a name of letters, digits, '_' or '-' (at most 64)")
    e = None if raw.get("e") is None else parse_mass(raw["e"], path=f"{path}.e")
    if e is not None and e <= 0:
        raise InputError(f"{path}.e", "must be positive")
    legal = raw.get("legal_for_trade", False)
    if not isinstance(legal, bool):
        raise InputError(f"{path}.legal_for_trade", "expected true or false")
    return ScaleOptions(url, name, e, legal, _extension(raw.get("extension"), f"{path}.extension"))


def parse_config(raw: object) -> ServerConfig:
    """Validate a configuration mapping; :class:`InputError` names the field that is wrong."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InputError("config", "expected a mapping with scales: and users:")
    for key in raw:
        if key not in {"scales", "users"}:
            raise InputError(str(key), "unknown field (known: scales, users)")
    scales_raw = raw.get("scales") or []
    if not isinstance(scales_raw, Sequence) or isinstance(scales_raw, str):
        raise InputError("scales", "expected a list")
    scales = tuple(_scale(item, i) for i, item in enumerate(scales_raw))
    names = [s.name for s in scales]
    for name in names:
        if names.count(name) > 1:
            raise InputError("scales", f"two scales are named {name!r}")
    users_raw = raw.get("users") or {}
    if not isinstance(users_raw, Mapping):
        raise InputError("users", "expected a mapping of user name to argon2 hash")
    users: dict[str, str] = {}
    for user, hashed in users_raw.items():
        if not isinstance(user, str) or not _NAME.match(user):
            raise InputError("users", f"user name {user!r} is not letters, digits, '_' or '-'")
        if not isinstance(hashed, str) or not hashed.startswith("$argon2"):
            raise InputError(f"users.{user}", "expected an argon2 hash (make one with `hengqi opcua hash-password`)")
        users[user] = hashed
    return ServerConfig(scales, users)


def load_config(path: Path) -> ServerConfig:
    """Read and validate a YAML configuration file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(str(path), f"cannot read: {err.strerror or err}") from err
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:  # one line: where and what, not PyYAML's multi-line report
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or type(err).__name__
        raise InputError(str(path), f"not valid YAML{where}: {problem}") from err
    return parse_config(raw)


def with_urls(config: ServerConfig, urls: Sequence[str]) -> ServerConfig:
    """Add the scales given with ``--scale URL`` (named Scale<N> after the configured ones)."""
    scales = list(config.scales)
    taken = {s.name for s in scales}
    for url in urls:
        parse_address(url)
        number = len(scales) + 1
        while f"Scale{number}" in taken:
            number += 1
        scales.append(ScaleOptions(url, f"Scale{number}"))
        taken.add(f"Scale{number}")
    return ServerConfig(tuple(scales), config.users)
