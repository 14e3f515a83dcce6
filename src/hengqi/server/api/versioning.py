"""Optimistic locking over HTTP: ``ETag`` on every record read or written, ``If-Match`` on every change.

The ETag of a record is its ``row_version`` in quotes (``ETag: "3"``; RFC 9110, 8.8.3).  A client that sends
``If-Match: "3"`` with a PATCH or DELETE (or ``"row_version": 3`` in a PATCH body, as web forms do) changes the
record only if it is still at version 3; otherwise the answer is ``412 Precondition Failed`` and nothing is
written.  ``If-Match: *`` and no header at all mean "whatever the current version" (the change is still checked
against the version the server read, so two concurrent writers never both win: the later gets 409 or 412).
Weak ETags (``W/"3"``) never match (If-Match uses the strong comparison, RFC 9110, 13.1.1).
"""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

from fastapi import Header, Response
from pydantic import BaseModel

from hengqi.errors import InputError
from hengqi.server.errors import PreconditionFailedError

U = TypeVar("U", bound=BaseModel)
_TAG = re.compile(r'^"(\d{1,10})"$')

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description='the ETag read (e.g. "3"); the change is refused with 412 if the record has changed since',
    ),
]


def etag(row_version: int) -> str:
    """The ETag of a record at ``row_version``.

    >>> etag(3)
    '"3"'
    """
    return f'"{row_version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header names (``None`` for no header or ``*``).

    >>> expected_version('"7"'), expected_version("*"), expected_version(None)
    (7, None, None)
    >>> expected_version('W/"7"')  # weak tags never match: version 0 does not exist
    0
    """
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip()
    if text.startswith("W/"):
        return 0
    found = _TAG.match(text)
    if found is None:
        raise InputError("If-Match", 'expected one ETag as sent in the ETag header, e.g. "3"')
    return int(found.group(1))


def with_version(data: U, if_match: str | None) -> U:
    """``data`` (a change request with ``row_version``) with the version named by ``If-Match`` folded in;
    a header and a body naming different versions are refused (412)."""
    header = expected_version(if_match)
    if header is None:
        return data
    body = getattr(data, "row_version", None)
    if body is not None and body != header:
        raise PreconditionFailedError(
            f"If-Match names version {header} but the body names row_version {body}",
            details={"if_match": header, "row_version": body},
        )
    return data.model_copy(update={"row_version": header})


def tag(response: Response, row_version: int) -> None:
    """Put the record's ETag on ``response``."""
    response.headers["ETag"] = etag(row_version)


P = TypeVar("P", bound=BaseModel)


def tagged(response: Response, public: P) -> P:
    """``public`` (a record's public schema, with ``row_version``), its ETag put on ``response``."""
    tag(response, int(getattr(public, "row_version")))  # noqa: B009 - every versioned record's schema has it
    return public


def json_answer(public: BaseModel, *, status_code: int = 200, versioned: bool = True) -> Response:
    """``public`` serialised once by pydantic (``model_dump_json``) into the answer, with its ETag when
    ``versioned``.  A route that returns a :class:`Response` skips FastAPI's second validation of the returned
    model against ``response_model`` (a worker-thread hop for a sync route) and its serialisation; the route keeps
    ``response_model=`` for the OpenAPI document."""
    answer = Response(public.model_dump_json(), status_code=status_code, media_type="application/json")
    if versioned:
        tag(answer, int(getattr(public, "row_version")))  # noqa: B009 - every versioned record's schema has it
    return answer
