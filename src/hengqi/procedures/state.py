"""The persisted state of a guided run, and where it is kept (:class:`RunStore`).

A run's state is plain JSON: the plan ``kind``, its ``parameters`` and the answers to the operator steps done
so far (:class:`StepRecord`, in order).  Nothing else is needed: resuming re-creates the plan's generator from
its parameters and replays the answers (the generators are deterministic), so a run survives a closed
browser, a lost connection or a server restart.  ``version`` grows by one with every change; stores save with
a compare-and-set on it, so that two submissions racing on one run cannot both be recorded.

>>> store = MemoryRunStore()
>>> state = RunState.new("run-1", "verification", {"stage": "initial"}, now="2026-01-01T00:00:00+00:00")
>>> store.create(state)
>>> store.save(state.with_answer(StepRecord("0:abc", "prompt", None, "operator", "", state.created)),
...            expected_version=0)
>>> store.load("run-1").version, store.run_ids()
(1, ('run-1',))
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from hengqi.procedures.errors import (
    ConcurrentUpdateError,
    RunExistsError,
    RunStateError,
    UnknownRunError,
)

#: Format tag written into every state file.
STATE_FORMAT: Final = "hengqi-run/1"
_RUN_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
STATUSES: Final = ("running", "finished", "cancelled")


def utc_now() -> str:
    """The current time as ISO 8601 text in UTC."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_run_id(run_id: str) -> str:
    """Refuse run ids that are not safe as file names (letters, digits, ``.``, ``_``, ``-``; at most 128).

    >>> check_run_id("../etc/passwd")
    Traceback (most recent call last):
    ...
    hengqi.procedures.errors.RunStateError: run_id: must be 1 to 128 letters, digits, '.', '_' or '-', \
starting with a letter or digit; got '../etc/passwd'
    """
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise RunStateError(
            "run_id",
            f"must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit; got {run_id!r}",
        )
    return run_id


@dataclass(frozen=True, slots=True)
class StepRecord:
    """The recorded answer to one operator step.

    ``answer`` is the JSON form (masses as exact decimal strings in kg, the option chosen, or ``None``);
    ``source`` says where it came from (``"instrument"`` or ``"operator"``), ``by`` who submitted it.
    ``flags`` name the plausibility findings the answer was recorded with (:mod:`hengqi.procedures.plausibility`)
    and ``reason`` why it was accepted all the same, or why it corrects an earlier answer (the original is kept
    in :attr:`RunState.corrections`).
    """

    step_id: str
    kind: str
    answer: str | None
    source: str
    by: str
    at: str
    flags: tuple[str, ...] = ()
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        """Plain JSON form (``flags`` and ``reason`` only where given: older states read the same)."""
        data: dict[str, Any] = {
            "step_id": self.step_id,
            "kind": self.kind,
            "answer": self.answer,
            "source": self.source,
            "by": self.by,
            "at": self.at,
        }
        if self.flags:
            data["flags"] = list(self.flags)
        if self.reason:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_json(cls, data: object, *, path: str) -> StepRecord:
        """Read a step record; :class:`RunStateError` names the field that is wrong."""
        if not isinstance(data, Mapping):
            raise RunStateError(path, "expected an object")
        values: dict[str, str | None] = {}
        for name in ("step_id", "kind", "answer", "source", "by", "at"):
            value = data.get(name)
            if name == "answer":
                if value is not None and not isinstance(value, str):
                    raise RunStateError(f"{path}.answer", "expected text or null")
            elif not isinstance(value, str):
                raise RunStateError(f"{path}.{name}", "expected text")
            values[name] = value
        flags = data.get("flags", [])
        if not isinstance(flags, list) or not all(isinstance(flag, str) for flag in flags):
            raise RunStateError(f"{path}.flags", "expected a list of texts")
        reason = data.get("reason", "")
        if not isinstance(reason, str):
            raise RunStateError(f"{path}.reason", "expected text")
        return cls(
            step_id=str(values["step_id"]),
            kind=str(values["kind"]),
            answer=values["answer"],
            source=str(values["source"]),
            by=str(values["by"]),
            at=str(values["at"]),
            flags=tuple(flags),
            reason=reason,
        )


@dataclass(frozen=True, slots=True)
class RunState:
    """Everything needed to resume a run: plan kind, parameters, recorded answers, cancellation, version.

    ``cancelled_at`` is the number of answers recorded when cancellation was asked (the plan stops there and
    its shutdown steps follow); ``status`` is ``running``, ``finished`` or ``cancelled`` (kept for listings; the
    replay is what counts).
    """

    run_id: str
    kind: str
    parameters: Mapping[str, Any]
    results: tuple[StepRecord, ...] = ()
    cancelled_at: int | None = None
    status: str = "running"
    version: int = 0
    created: str = ""
    updated: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def new(cls, run_id: str, kind: str, parameters: Mapping[str, Any], *, now: str | None = None) -> RunState:
        """A fresh state at version 0."""
        stamp = now or utc_now()
        return cls(check_run_id(run_id), kind, dict(parameters), created=stamp, updated=stamp)

    def with_answer(self, record: StepRecord, *, status: str | None = None) -> RunState:
        """This state with one more answer (version + 1)."""
        return replace(
            self,
            results=(*self.results, record),
            version=self.version + 1,
            updated=record.at,
            status=status or self.status,
        )

    def with_correction(self, index: int, record: StepRecord, *, reason: str, by: str, now: str) -> RunState:
        """This state with answer ``index`` replaced by ``record`` (version + 1); the original record, the reason
        and who corrected it are kept in ``extra["corrections"]`` (nothing recorded is ever lost)."""
        if not 0 <= index < len(self.results):
            raise RunStateError("index", f"expected a recorded step from 0 to {len(self.results) - 1}, got {index}")
        kept = {"index": index, "original": self.results[index].as_json(), "reason": reason, "by": by, "at": now}
        corrections = [*self.corrections, kept]
        results = (*self.results[:index], record, *self.results[index + 1 :])
        return replace(
            self,
            results=results,
            version=self.version + 1,
            updated=now,
            extra={**dict(self.extra), "corrections": corrections},
        )

    @property
    def corrections(self) -> list[dict[str, Any]]:
        """The corrections made, oldest first: ``index``, the ``original`` record, ``reason``, ``by``, ``at``."""
        found = self.extra.get("corrections", [])
        return [dict(item) for item in found if isinstance(item, Mapping)] if isinstance(found, list) else []

    def with_cancel(self, *, now: str | None = None) -> RunState:
        """This state with cancellation asked at the current answer count (version + 1)."""
        return replace(self, cancelled_at=len(self.results), version=self.version + 1, updated=now or utc_now())

    def with_status(self, status: str) -> RunState:
        """This state with another status (same version: the status follows from the replay)."""
        return replace(self, status=status)

    def as_json(self) -> dict[str, Any]:
        """The JSON document a store keeps."""
        return {
            "format": STATE_FORMAT,
            "run_id": self.run_id,
            "kind": self.kind,
            "parameters": dict(self.parameters),
            "results": [record.as_json() for record in self.results],
            "cancelled_at": self.cancelled_at,
            "status": self.status,
            "version": self.version,
            "created": self.created,
            "updated": self.updated,
            "extra": dict(self.extra),
        }

    def dumps(self) -> str:
        """The state as JSON text (checks that the parameters really are JSON)."""
        try:
            return json.dumps(self.as_json(), ensure_ascii=False, indent=1, sort_keys=True)
        except (TypeError, ValueError) as err:
            raise RunStateError("parameters", f"not JSON-serialisable: {err}") from err

    @classmethod
    def from_json(cls, data: object) -> RunState:
        """Read a state document; :class:`RunStateError` names the field that is wrong."""
        if not isinstance(data, Mapping):
            raise RunStateError("", "a run state is a JSON object")
        if data.get("format") != STATE_FORMAT:
            raise RunStateError("format", f"expected {STATE_FORMAT!r}, got {data.get('format')!r}")
        run_id = check_run_id(data.get("run_id"))  # type: ignore[arg-type]
        kind = data.get("kind")
        if not isinstance(kind, str):
            raise RunStateError("kind", "expected text")
        parameters = data.get("parameters")
        if not isinstance(parameters, Mapping):
            raise RunStateError("parameters", "expected an object")
        raw_results = data.get("results")
        if not isinstance(raw_results, list):
            raise RunStateError("results", "expected a list")
        results = tuple(StepRecord.from_json(item, path=f"results[{i}]") for i, item in enumerate(raw_results))
        cancelled_at = data.get("cancelled_at")
        if cancelled_at is not None and (
            isinstance(cancelled_at, bool) or not isinstance(cancelled_at, int) or not 0 <= cancelled_at <= len(results)
        ):
            raise RunStateError("cancelled_at", f"expected null or 0 to {len(results)}, got {cancelled_at!r}")
        status = data.get("status")
        if status not in STATUSES:
            raise RunStateError("status", f"expected one of {', '.join(STATUSES)}, got {status!r}")
        version = data.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise RunStateError("version", f"expected a whole number >= 0, got {version!r}")
        created, updated = data.get("created", ""), data.get("updated", "")
        extra = data.get("extra", {})
        if not isinstance(created, str) or not isinstance(updated, str) or not isinstance(extra, Mapping):
            raise RunStateError("created", "created/updated must be text and extra an object")
        return cls(
            run_id, kind, dict(parameters), results, cancelled_at, str(status), version, created, updated, dict(extra)
        )

    @classmethod
    def loads(cls, text: str, *, source: str = "run state") -> RunState:
        """Read a state from JSON text."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise RunStateError("", f"{source} is not valid JSON: {err}") from err
        except RecursionError as err:
            raise RunStateError("", f"{source} is nested too deeply to be a run state") from err
        return cls.from_json(data)


class RunStore(Protocol):
    """Where run states are kept.  Implementations: :class:`MemoryRunStore`, :class:`JsonFileRunStore`,
    :class:`JsonStateFile` (and a database-backed store in the server).

    ``save`` is a compare-and-set: it raises :class:`ConcurrentUpdateError` unless the stored version equals
    ``expected_version``, and the saved state must carry a higher version.
    """

    def create(self, state: RunState) -> None:
        """Store a new run; :class:`RunExistsError` if the id is taken."""

    def load(self, run_id: str) -> RunState:
        """The stored state; :class:`UnknownRunError` if there is none."""

    def save(self, state: RunState, *, expected_version: int) -> None:
        """Replace the stored state if it is still at ``expected_version``."""

    def run_ids(self) -> tuple[str, ...]:
        """The ids of the stored runs, sorted."""


class MemoryRunStore:
    """A :class:`RunStore` in memory (states kept as JSON text, so what is stored is what a file would hold)."""

    def __init__(self) -> None:
        self._states: dict[str, str] = {}
        self._lock = threading.Lock()

    def create(self, state: RunState) -> None:
        text = state.dumps()
        with self._lock:
            if state.run_id in self._states:
                raise RunExistsError(state.run_id)
            self._states[state.run_id] = text

    def load(self, run_id: str) -> RunState:
        with self._lock:
            text = self._states.get(run_id)
        if text is None:
            raise UnknownRunError(run_id)
        return RunState.loads(text)

    def save(self, state: RunState, *, expected_version: int) -> None:
        text = state.dumps()
        with self._lock:
            current = self._states.get(state.run_id)
            if current is None:
                raise UnknownRunError(state.run_id)
            found = RunState.loads(current).version
            if found != expected_version:
                raise ConcurrentUpdateError(state.run_id, expected_version, found)
            self._states[state.run_id] = text

    def run_ids(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._states))


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old or the new file, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock beside ``path`` (``PATH.lock``), across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _read_state(path: Path, run_id: str) -> RunState:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UnknownRunError(run_id) from None
    except UnicodeDecodeError as err:
        raise RunStateError(str(path), f"not a run state: not UTF-8 text (byte {err.start})") from err
    except OSError as err:
        raise RunStateError(str(path), f"cannot be read: {err.strerror or err}") from err
    return RunState.loads(text, source=str(path))


def _save_file(path: Path, state: RunState, expected_version: int) -> None:
    text = state.dumps()
    with _locked(path):
        found = _read_state(path, state.run_id).version
        if found != expected_version:
            raise ConcurrentUpdateError(state.run_id, expected_version, found)
        _write_atomic(path, text)


class JsonFileRunStore:
    """A :class:`RunStore` keeping one JSON file per run in ``directory`` (``RUN_ID.json``).

    Writes are atomic (a temporary file renamed over the old one) and saves hold an exclusive file lock while
    they compare versions, so processes sharing the directory cannot record one step twice.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path_for(self, run_id: str) -> Path:
        """The file of a run."""
        return self.directory / f"{check_run_id(run_id)}.json"

    def create(self, state: RunState) -> None:
        path = self.path_for(state.run_id)
        text = state.dumps()
        with _locked(path):
            if path.exists():
                raise RunExistsError(state.run_id)
            _write_atomic(path, text)

    def load(self, run_id: str) -> RunState:
        return _read_state(self.path_for(run_id), run_id)

    def save(self, state: RunState, *, expected_version: int) -> None:
        _save_file(self.path_for(state.run_id), state, expected_version)

    def run_ids(self) -> tuple[str, ...]:
        if not self.directory.is_dir():
            return ()
        return tuple(sorted(p.stem for p in self.directory.glob("*.json") if _RUN_ID.match(p.stem)))


class JsonStateFile:
    """A :class:`RunStore` holding the one run kept in the JSON file ``path`` (the CLI's ``--state FILE``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _check(self, run_id: str) -> None:
        if self.path.exists():
            stored = _read_state(self.path, run_id).run_id
            if stored != run_id:
                raise UnknownRunError(run_id)

    def create(self, state: RunState) -> None:
        text = state.dumps()
        with _locked(self.path):
            if self.path.exists():
                raise RunExistsError(_read_state(self.path, state.run_id).run_id)
            _write_atomic(self.path, text)

    def load(self, run_id: str) -> RunState:
        state = _read_state(self.path, run_id)
        if state.run_id != run_id:
            raise UnknownRunError(run_id)
        return state

    def load_only(self) -> RunState:
        """The run held in the file, whatever its id."""
        return _read_state(self.path, "(state file)")

    def save(self, state: RunState, *, expected_version: int) -> None:
        self._check(state.run_id)
        _save_file(self.path, state, expected_version)

    def run_ids(self) -> tuple[str, ...]:
        return (self.load_only().run_id,) if self.path.exists() else ()
